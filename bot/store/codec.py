"""Session ⇄ bytes, and the stored value ``b"<version>|<body>"`` that carries the version with it.

The body is `Session.to_dict` as compact JSON (no spaces, UTF-8 rather than ``\\uXXXX`` escapes, which
halves the size of Japanese text). Lone surrogates, which a platform's JSON may hand us, are kept with
``surrogatepass`` so that encoding never fails and decoding gives back the same string.

Bodies over `COMPRESS_OVER` bytes are zlib-compressed when that makes them smaller: a session well into
two flows is ~1 KB of JSON with its keys repeated in every flow and step. Deflate halves it; with a preset
dictionary of what every session repeats (`DICTIONARY`) it is a quarter (a worker's session at the client
message: 798 B of JSON, 379 B deflated, 197 B with the dictionary). The first byte tells the forms apart: JSON
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


# A preset dictionary for deflate: what every session repeats (the JSON's own keys, the flows' most common
# names and values), so even a short session compresses. NEVER EDIT IT: stored sessions name it by its
# Adler-32 (zlib's DICTID) and inflate with it; a new one would be added beside it, read by its id.
DICTIONARY = (
    b'"wait"],["lancers","pending"],["lancers","waiting"]],"r":[["lancers.pending.'
    b'"none","payment_wait":"none","related":"none","balance":"done","payout":"wait","csv":"done"},'
    b'"~":{"p.tax":"other"}},"h":[["lancers","payout_fix",{"payout":"wait"}],["lancers","csv",{"csv":null}],'
    b'["lancers","tax_kind",{"p.tax":null}],["lancers","tax_other"],["lancers","profile"],'
    b'["crowdworks","contract",{"contract":null}],"login":"email","contract":"none","settlement":"none",'
    b'"escrow":"none","it":[["lancers","ongoing",{"status":"yes","name":"'
    b'"fl":{"client_name":"","job_title":"","user_name":"'
    b'{"_":1,"f":"lancers","s":"pending","t":1764000000,"a":{"lancers":{"reason":"not_using",'
    b'"decision":"leave","role":"worker","ongoing":"yes","proposal":"none",'
)
_DICTIONARIES = {zlib.adler32(DICTIONARY): DICTIONARY}
_FDICT = 0x20  # the zlib header's flag: a preset dictionary follows, named by its Adler-32


def encode(session: Session) -> bytes:
    """The compact JSON of `session` (deflated with the preset dictionary when that makes it smaller)."""
    text = json.dumps(session.to_dict(), separators=(",", ":"), ensure_ascii=False)
    body = text.encode("utf-8", "surrogatepass")
    if len(body) > COMPRESS_OVER:
        deflater = zlib.compressobj(9, zdict=DICTIONARY)
        packed = deflater.compress(body) + deflater.flush()
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
    """Sessions stored before the dictionary are plain zlib streams; later ones name theirs."""
    named = len(data) >= 6 and data[1] & _FDICT
    dictionary = _DICTIONARIES.get(int.from_bytes(data[2:6], "big")) if named else None
    if named and dictionary is None:
        raise ValueError("a zlib dictionary this release does not have")
    inflater = zlib.decompressobj(zdict=dictionary) if dictionary is not None else zlib.decompressobj()
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
