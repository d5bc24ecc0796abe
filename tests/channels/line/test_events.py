"""Webhook events to decisions (pure): every SDK event type, sources, postback data, odd inputs."""

from __future__ import annotations

from typing import Any

import pytest
from linebot.v3.webhooks import Event

from bot.channels.line.events import (
    Erase,
    GroupNotice,
    Ignore,
    Preface,
    Repeat,
    Turn,
    classify,
    destination,
    parse_events,
)
from bot.channels.line.render import MorePage
from bot.core.messages import ChoiceInput, StartInput, TextInput
from tests.channels.line import webhooks

USER = "U" + "1" * 32


def one(raw: dict[str, Any]) -> Any:
    [found] = parse_events([raw])
    return found


def test_every_event_type_of_the_sdk_parses_to_its_model() -> None:
    mapping = Event._Event__discriminator_value_class_map
    for kind, sample in webhooks.every_event_type(USER).items():
        assert type(Event.from_dict(sample)).__name__ == mapping[kind]


def test_actions_for_every_event_type() -> None:
    actions = {kind: one(sample).action for kind, sample in webhooks.every_event_type(USER).items()}
    assert actions.pop("follow") == Turn(StartInput())
    assert actions.pop("unfollow") == Erase()
    assert actions.pop("message") == Turn(TextInput("こんにちは"))
    assert actions.pop("postback") == Turn(ChoiceInput("common", "menu", "lancers"))
    assert actions.pop("join") == GroupNotice()
    assert all(isinstance(action, Ignore) for action in actions.values()), actions


@pytest.mark.parametrize("kind", ["sticker", "image", "video", "audio", "file", "location"])
def test_non_text_messages_repeat_the_question(kind: str) -> None:
    assert one(webhooks.message(USER, kind)).action == Repeat(preface=Preface.UNSUPPORTED)


def test_identity_and_delivery_fields() -> None:
    raw = webhooks.text(USER, "はい", deliveryContext={"isRedelivery": True})
    found = one(raw)
    assert (found.event_id, found.redelivery, found.reply_token) == (raw["webhookEventId"], True, raw["replyToken"])
    assert (found.chat.kind, found.chat.id, found.chat.user) == ("user", USER, USER)


def test_postback_data() -> None:
    more = MorePage(2, "lancers", "reason")
    assert one(webhooks.postback(USER, more.encode())).action == Repeat(page=more)
    for forged in ("", "c1|a|b", "p1|x|a|b", "p1|99999|a|b", "hello"):
        assert one(webhooks.postback(USER, forged)).action == Repeat(preface=Preface.STALE)


def test_groups_and_rooms() -> None:
    member = webhooks.user_id()
    content = {**webhooks.MESSAGE_CONTENTS["text"], "text": "@bot"}
    plain = one(webhooks.event("message", webhooks.group_source(member), message=content))
    assert plain.action == Ignore("group") and plain.chat.kind == "group" and plain.chat.user == member
    for is_self, expected in ((True, GroupNotice()), (False, Ignore("group"))):
        mention = {"mentionees": [{"index": 0, "length": 4, "type": "user", "isSelf": is_self}]}
        found = one(webhooks.event("message", webhooks.group_source(member), message={**content, "mention": mention}))
        assert found.action == expected
    room = {"type": "room", "roomId": "R" + "b" * 32}
    assert one(webhooks.event("join", room)).action == GroupNotice()
    assert one(webhooks.event("follow", room, follow={"isUnblocked": False})).action == Ignore("group")


def test_odd_events_are_ignored_not_errors() -> None:
    found = parse_events(
        [
            "text",
            {"type": "somethingNew"},
            {"type": "message", "webhookEventId": "E"},
            {**webhooks.text(USER, "はい"), "mode": "standby"},
            {**webhooks.text(USER, "はい"), "source": {"type": "user", "userId": "x" * 200}},
            {**webhooks.text(USER, "はい"), "source": {"type": "user"}},
        ]
    )
    assert [f.action for f in found] == [
        Ignore("not an object"),
        Ignore("unparsed"),
        Ignore("unparsed"),
        Ignore("standby"),
        Ignore("no user"),
        Ignore("no user"),
    ]
    assert found[2].event_id == "E" and found[1].type == "somethingNew"


def test_destination_is_bounded() -> None:
    assert destination({"destination": webhooks.DESTINATION}) == webhooks.DESTINATION
    for odd in (None, 3, "", "a:b", "x" * 100, "a}b"):
        assert destination({"destination": odd}) == "-"


def test_classify_accepts_sdk_models_directly() -> None:
    event = Event.from_dict(webhooks.follow(USER))
    assert classify(event).action == Turn(StartInput())
