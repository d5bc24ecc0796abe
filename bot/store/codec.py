"""Session ⇄ bytes, and the stored value ``b"<version>|<body>"`` that carries the version with it.

The body is `Session.to_dict` as compact JSON (no spaces, UTF-8 rather than ``\\uXXXX`` escapes, which
halves the size of Japanese text). Lone surrogates, which a platform's JSON may hand us, are kept with
``surrogatepass`` so that encoding never fails and decoding gives back the same string.

Bodies over `COMPRESS_OVER` bytes are zlib-compressed when that makes them smaller: a session well into
two flows is ~1 KB of JSON with its keys repeated in every flow and step, and deflate halves it, which
keeps a typical session well under 1 KiB of Redis memory. The first byte tells the forms apart: JSON
starts with ``{``, a zlib stream with ``x`` (0x78); zlib's checksum also catches corrupted bytes.

Stored data is untrusted (an older release, a manual edit, a bit flip): `decode` and `unpack` never
raise; unreadable data is logged, without its content (it is personal data), and read as "no session".
"""

from __future__ import annotations

import json
import logging
import re
import zlib

from bot.core.session import Session

log = logging.getLogger(__name__)

# Must match the Lua pattern '^(%d+)|' used by the Redis scripts: both sides read the same version from
# the same bytes, so a value with an unreadable body still has a version that a save can replace.
_VERSION = re.compile(rb"\A([0-9]+)\|")
_MAX_VERSION_DIGITS = 15  # beyond this Lua numbers (doubles) lose precision; never reached in practice
COMPRESS_OVER = 128  # below this deflate's 6 bytes of framing rarely pay for themselves
_MAX_JSON = 64 * 1024  # a session is a few KB at most (history is capped): refuse to inflate more

_UNREADABLE = (
    UnicodeDecodeError,
    zlib.error,
    ValueError,  # JSON syntax (JSONDecodeError) and Session.from_dict's own checks
    TypeError,
    AttributeError,
    KeyError,
    IndexError,  # a history step that is an empty list
    OverflowError,  # "t": Infinity
    RecursionError,  # absurdly nested JSON
)


def encode(session: Session) -> bytes:
    """The compact JSON of `session`."""
    text = json.dumps(session.to_dict(), separators=(",", ":"), ensure_ascii=False)
    body = text.encode("utf-8", "surrogatepass")
    if len(body) > COMPRESS_OVER:
        packed = zlib.compress(body, 9)
        if len(packed) < len(body):
            return packed
    return body


def decode(data: bytes) -> Session | None:
    """The session in `data`, or None (with a warning) when it cannot be read."""
    try:
        if not data.startswith(b"{"):
            data = _inflate(data)
        return Session.from_dict(json.loads(data.decode("utf-8", "surrogatepass")))
    except _UNREADABLE as exc:
        log.warning("unreadable session data ignored (%d bytes, %s)", len(data), type(exc).__name__)
        return None


def _inflate(data: bytes) -> bytes:
    inflater = zlib.decompressobj()
    text = inflater.decompress(data, _MAX_JSON)
    if inflater.unconsumed_tail or not inflater.eof or inflater.unused_data:
        raise ValueError("truncated, oversized or trailing zlib data")
    return text


def unpack(value: bytes) -> tuple[int, Session | None]:
    """(version, session) of a stored value.

    A value without a readable version prefix counts as version 0, like in the Lua scripts, so the next
    save (made with version 0) replaces it instead of conflicting forever.
    """
    match = _VERSION.match(value)
    if match is None or len(match.group(1)) > _MAX_VERSION_DIGITS:
        log.warning("unreadable session value ignored (%d bytes, no version)", len(value))
        return 0, None
    return int(match.group(1)), decode(value[match.end() :])
