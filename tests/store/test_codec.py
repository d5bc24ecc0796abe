"""codec: sessions survive the trip to bytes, and unreadable bytes become None without raising."""

from __future__ import annotations

import json
import logging
import zlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.core.session import HISTORY_LIMIT, Session, Step
from bot.store import codec

# Any text, lone surrogates included (a platform's JSON can carry "\ud800").
text = st.text(st.characters(codec=None, exclude_categories=()), max_size=12)
names = st.text(max_size=8)

steps = st.builds(
    Step,
    flow=names,
    state=names,
    undo=st.dictionaries(names, st.none() | text, max_size=3).map(lambda d: tuple(d.items())),
    queue=st.none() | st.lists(names, max_size=3).map(tuple),
)

sessions = st.builds(
    Session,
    flow=names,
    state=names,
    answers=st.dictionaries(names, st.dictionaries(names, text, max_size=4), max_size=3),
    fields=st.dictionaries(names, text, max_size=4),
    filling=st.none() | st.text(min_size=1, max_size=8),  # "" is stored as "not filling": None
    queue=st.lists(names, max_size=3).map(tuple),
    history=st.lists(steps, max_size=HISTORY_LIMIT).map(tuple),
    updated=st.integers(min_value=0, max_value=2**53),
)


@given(sessions)
def test_round_trip(session: Session) -> None:
    assert codec.decode(codec.encode(session)) == session


def pack(version: int, body: bytes) -> bytes:
    """The stored value as the Redis scripts write it (bot/store/redis_scripts.py): version, ``|``, body."""
    return b"%d|%s" % (version, body)


@given(sessions, st.integers(min_value=0, max_value=10**15 - 1))
def test_pack_round_trip(session: Session, version: int) -> None:
    assert codec.unpack(pack(version, codec.encode(session))) == (version, session)


def test_encoding_is_compact_utf8_json() -> None:
    session = Session("lancers", "ask_reason", fields={"client_name": "山田"})
    body = codec.encode(session)
    assert body == '{"_":1,"f":"lancers","s":"ask_reason","t":0,"d":{"client_name":"山田"}}'.encode()


def test_large_bodies_are_compressed_when_it_helps() -> None:
    session = Session("lancers", "s", answers={"lancers": {f"key{i}": "value" for i in range(40)}})
    body = codec.encode(session)
    plain = json.dumps(session.to_dict(), separators=(",", ":"), ensure_ascii=False).encode()
    assert body[:1] == b"x" and len(body) < len(plain) / 2
    inflater = zlib.decompressobj(zdict=codec.DICTIONARY)  # deflated with the preset dictionary
    assert inflater.decompress(body) + inflater.flush() == plain
    assert codec.decode(body) == session


@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    session = codec.decode(data)
    assert session is None or isinstance(session, Session)
    version, loaded = codec.unpack(data)
    assert version >= 0 and (loaded is None or isinstance(loaded, Session))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=3), inner, max_size=4),
    max_leaves=20,
)


@given(json_values)
def test_arbitrary_json_never_raises(value: object) -> None:
    assert codec.decode(json.dumps(value).encode()) is None or isinstance(value, dict)


@given(st.dictionaries(st.sampled_from(["_", "f", "s", "t", "a", "d", "i", "q", "h"]), json_values))
def test_session_shaped_json_never_raises(data: dict[str, object]) -> None:
    data["_"] = 1
    codec.decode(json.dumps(data).encode())  # no exception, whatever the fields hold


@pytest.mark.parametrize(
    "value",
    [
        b"",
        b"garbage",
        b"\xff\xfe\x00",
        b"12|",
        b"12|{not json",
        b'12|{"_":99,"f":"a","s":"b"}',
        b'12|{"_":1,"f":"a","s":"b","t":Infinity}',
        b'12|{"_":1,"f":"a","s":"b","h":[[]]}',
        b"12|" + b"[" * 100_000,
        b"12|x\x9c truncated zlib",
        b"12|" + zlib.compress(b"{" + b" " * 200_000 + b"}"),  # inflates past the limit
        b"99999999999999999999|{}",  # a version Lua could not compare exactly
    ],
)
def test_unreadable_values(value: bytes, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="bot.store.codec")
    version, session = codec.unpack(value)
    assert session is None
    assert version == (12 if value.startswith(b"12|") else 0)
    assert caplog.records, "unreadable data is logged"
    for record in caplog.records:  # ... without its content
        assert "not json" not in record.getMessage() and "garbage" not in record.getMessage()


def test_the_preset_dictionary_never_changes() -> None:
    """Stored sessions name it by its Adler-32: editing it would make every stored session unreadable."""
    import zlib

    from bot.store.codec import DICTIONARY

    assert zlib.adler32(DICTIONARY) == 2054614866


def test_sessions_stored_before_the_dictionary_still_read_and_an_unknown_one_is_refused() -> None:
    import json
    import zlib

    from bot.core.session import Session
    from bot.store.codec import decode, encode

    session = Session(flow="lancers", state="pending", answers={"lancers": {"decision": "leave", "role": "worker"}})
    body = json.dumps(session.to_dict(), separators=(",", ":"), ensure_ascii=False).encode()
    assert decode(zlib.compress(body, 9)) == session  # a plain zlib stream, as stored before
    assert decode(encode(session)) == session
    other = zlib.compressobj(9, zdict=b"some other dictionary")
    assert decode(other.compress(body) + other.flush()) is None  # logged as unreadable, never raised
