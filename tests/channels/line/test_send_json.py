"""The JSON the sender POSTs is exactly the SDK's own serialisation of the same request models."""

from __future__ import annotations

import pytest
from linebot.v3.messaging import (
    PushMessageRequest,
    ReplyMessageRequest,
    ShowLoadingAnimationRequest,
    TextMessage,
)

from bot.channels.line.api import LineApi, api_configuration, to_json
from bot.channels.line.render import render
from bot.core.dialogue.engine import Engine
from bot.core.messages import (
    Checklist,
    ChecklistItem,
    ChoiceInput,
    CommandInput,
    ItemStatus,
    Option,
    Question,
    StartInput,
    TextInput,
)
from tests.channels.lexicon import WORDS
from tests.flows.journeys import JOURNEYS


def test_every_reply_of_the_golden_journeys(engine: Engine) -> None:
    checked = 0
    for words in JOURNEYS.values():
        turn = engine.handle(None, StartInput(), 1_764_000_000)
        for index, text in enumerate([*words, "状況", "ヘルプ"]):
            messages = render(turn.replies, WORDS)
            for batch in (messages[:5], messages[5:]):
                if batch:
                    request = ReplyMessageRequest(reply_token="r" * 32, messages=batch)
                    assert to_json(request) == request.to_dict()
                    push = PushMessageRequest(to="U" + "1" * 32, messages=batch)
                    assert to_json(push) == push.to_dict()
                    checked += 1
            turn = engine.handle(turn.session, TextInput(text), 1_764_000_000 + 30 * (index + 1))
    status = engine.handle(turn.session, CommandInput("status"), 1_764_001_000)
    assert any(isinstance(r, Checklist) for r in status.replies)
    request = ReplyMessageRequest(reply_token="r" * 32, messages=render(status.replies, WORDS)[:5])
    assert to_json(request) == request.to_dict()
    assert checked > 40


def test_flex_checklist_pages_and_loading() -> None:
    items = tuple(ChecklistItem("ランサーズ", f"項目{i}", s, "・", s.value) for i, s in enumerate(ItemStatus))
    checklist = Checklist("状況", items, "あと1つ")
    many = tuple(Option(f"選択肢{i}", ChoiceInput("lancers", "reason", f"c{i}").encode()) for i in range(30))
    for page in (0, 1, 2):
        messages = render([checklist, Question("どれですか？", many)], WORDS, page)
        request = ReplyMessageRequest(reply_token="r" * 32, messages=messages)
        assert to_json(request) == request.to_dict()
    plain = ReplyMessageRequest(reply_token="r" * 32, messages=[TextMessage(text="😀 𠮷")])
    assert to_json(plain) == plain.to_dict()
    loading = ShowLoadingAnimationRequest(chat_id="U" + "1" * 32, loading_seconds=20)
    assert to_json(loading) == loading.to_dict() == {"chatId": "U" + "1" * 32, "loadingSeconds": 20}


async def test_proxy_from_the_environment_and_the_pool_closed_with_the_sender(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://user:secret@proxy.example:3128")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    api = LineApi(api_configuration("https://api.line.me", "t"))
    assert str(api.proxy) == "http://proxy.example:3128"
    assert api.proxy_auth is not None and api.proxy_auth.login == "user" and api.proxy_auth.password == "secret"
    session = api.session
    assert session.connector is not None and session.connector.limit == 100, "the pool size of the configuration"
    await api.close()
    assert session.closed
    assert LineApi(api_configuration("http://127.0.0.1:9", "t")).proxy is None
    monkeypatch.setenv("NO_PROXY", "api.line.me")
    assert LineApi(api_configuration("https://api.line.me", "t")).proxy is None


async def test_an_explicit_proxy_in_the_configuration_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://env.example:3128")
    configuration = api_configuration("https://api.line.me", "t")
    configuration.proxy = "http://configured.example:8080"
    assert LineApi(configuration).proxy == "http://configured.example:8080"
