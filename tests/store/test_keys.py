"""KeyBuilder: layout, one hash slot per user, and no way for a crafted id to reach another user's keys."""

from __future__ import annotations

from fnmatch import fnmatchcase

import pytest
from hypothesis import given
from hypothesis import strategies as st
from redis.crc import key_slot

from bot.core.session import SessionKey
from bot.store.keys import KeyBuilder, escape, user_digest

KEYS = KeyBuilder()
CRAFTED = ("x}:y", "{evil}", "a:b:c", "}{", "%7D", "*", "?[a-z]\\", "", "ユーザー{1}")


def hash_tag(key: str) -> str:
    """What Redis Cluster hashes: the text between the first `{` and the next `}` (when non-empty)."""
    start = key.find("{")
    end = key.find("}", start + 1)
    if start == -1 or end == -1 or end == start + 1:
        return key
    return key[start + 1 : end]


def user_keys(key: SessionKey) -> tuple[str, ...]:
    """Every key held in the user's slot."""
    return KEYS.session(key), KEYS.seen(key), KEYS.rate(key)


def test_layout() -> None:
    key = SessionKey("line", "U123", "Uabc")
    assert KEYS.session(key) == "taikai:{line:U123:Uabc}:session"
    assert KEYS.seen(key) == "taikai:{line:U123:Uabc}:seen"
    assert KEYS.rate(key) == "taikai:{line:U123:Uabc}:bucket"
    assert KeyBuilder("other").session(key) == "other:{line:U123:Uabc}:session"


def test_all_keys_of_a_user_share_a_slot() -> None:
    key = SessionKey("slack", "T024BE7LD", "U0G9QF9C6")
    slots = {key_slot(k.encode()) for k in user_keys(key)}
    assert len(slots) == 1
    assert all(hash_tag(k) == "slack:T024BE7LD:U0G9QF9C6" for k in user_keys(key))


@pytest.mark.parametrize("crafted", CRAFTED)
def test_crafted_parts_are_neutralised(crafted: str) -> None:
    key = SessionKey(crafted, crafted, crafted)
    for built in user_keys(key):
        assert built.count("{") == 1 and built.count("}") == 1
        assert hash_tag(built) == ":".join([escape(crafted)] * 3)
        assert built.startswith("taikai:{") and built.rsplit(":", 1)[1] in ("session", "seen", "bucket")
    assert len({key_slot(k.encode()) for k in user_keys(key)}) == 1


def test_crafted_user_cannot_collide_with_a_neighbour() -> None:
    # Without escaping, ("line", "a:b", "c") and ("line", "a", "b:c") would give the same key.
    assert KEYS.session(SessionKey("line", "a:b", "c")) != KEYS.session(SessionKey("line", "a", "b:c"))
    # A user id that tries to close the tag and forge another user's key.
    victim = SessionKey("line", "-", "Uvictim")
    attacker = SessionKey("line", "-", "Uvictim}:session:{x")
    assert KEYS.session(attacker) != KEYS.session(victim)
    assert hash_tag(KEYS.session(attacker)) != hash_tag(KEYS.session(victim))
    assert escape("%3A") != escape(":")  # escaping the escape character keeps the mapping injective


@given(st.tuples(st.text(), st.text(), st.text()), st.tuples(st.text(), st.text(), st.text()))
def test_keys_are_injective(a: tuple[str, str, str], b: tuple[str, str, str]) -> None:
    first, second = SessionKey(*a), SessionKey(*b)
    assert (KEYS.session(first) == KEYS.session(second)) == (first == second)
    assert KEYS.seen(first) != KEYS.session(second)


@given(st.text(), st.text(), st.text())
def test_one_slot_per_user_for_any_id(channel: str, workspace: str, user: str) -> None:
    built = user_keys(SessionKey(channel, workspace, user))
    assert len({key_slot(k.encode("utf-8", "surrogatepass")) for k in built}) == 1
    assert all(k.count("{") == 1 and k.count("}") == 1 for k in built)


def test_workspace_pattern_matches_only_that_workspace() -> None:
    pattern = KEYS.workspace_pattern("slack", "T1")
    assert pattern == "taikai:{slack:T1:*}:*"
    mine = [SessionKey("slack", "T1", user) for user in ("U1", "U2", "x}:y", "*")]
    others = [
        SessionKey("slack", "T10", "U1"),
        SessionKey("slack", "T", "1:U1"),
        SessionKey("slack", "T1:U1", "U2"),
        SessionKey("line", "T1", "U1"),
        SessionKey("slack", "*", "U1"),
    ]
    assert all(fnmatchcase(k, pattern) for key in mine for k in user_keys(key))
    assert not any(fnmatchcase(k, pattern) for key in others for k in user_keys(key))
    assert not fnmatchcase(KeyBuilder("taikai2").session(mine[0]), pattern)


def test_workspace_pattern_escapes_globs() -> None:
    # A workspace id of "*" must not turn the pattern into "every workspace".
    pattern = KEYS.workspace_pattern("slack", "*")
    assert not fnmatchcase(KEYS.session(SessionKey("slack", "T1", "U1")), pattern)
    assert fnmatchcase(KEYS.session(SessionKey("slack", "*", "U1")), pattern)


@pytest.mark.parametrize("prefix", ["", "a{b", "a}b", "a*", "a?", "a[b]", "a\\b"])
def test_prefix_is_validated(prefix: str) -> None:
    with pytest.raises(ValueError):
        KeyBuilder(prefix)


def test_reminder_keys_name_no_user_in_clear() -> None:
    key = SessionKey("slack", "T024BE7LD", "U0G9QF9C6")
    built = (
        KEYS.reminder_job(key, "r1"),
        KEYS.reminder_claim(key, "r1"),
        KEYS.reminder_marks(key, "2026w49"),
    )
    assert all(k.startswith("taikai:reminder") and user_digest(key) in k for k in built)
    assert not any("U0G9QF9C6" in k or "T024BE7LD" in k for k in (*built, KEYS.reminder_queue))
    assert len(set(built)) == len(built) and user_digest(key) != user_digest(SessionKey("slack", "T024BE7LD", "U1"))
