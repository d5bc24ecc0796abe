"""Text from a platform made storable: JSON may carry a lone surrogate (``"\\ud800"``), which is not valid
Unicode — Redis cannot encode it, and a session or template holding one breaks until 戻る. Every id and
text that enters from LINE or Slack passes `valid_text` at the edge; one replacement character stands in."""

from __future__ import annotations

import re

_SURROGATE = re.compile("[\ud800-\udfff]")


def valid_text(value: str) -> str:
    """`value` with each lone surrogate replaced by U+FFFD (a no-op, and cheap, for ordinary text)."""
    return _SURROGATE.sub("\ufffd", value) if not value.isascii() and _SURROGATE.search(value) else value
