"""Redis key names for one user's data, built so that a crafted id can never reach another user's keys.

Layout: ``<prefix>:{<channel>:<workspace>:<user>}:<kind>``, e.g. ``taikai:{line:-:Uabc}:session``.

- The braces are a Redis Cluster hash tag: only the text between the first ``{`` and the next ``}`` is
  hashed, so every key of one user lands in the same slot. That is what lets one Lua script (and one
  ``DEL``) touch all of them atomically on a cluster.
- Each part is percent-escaped (``%``, ``{``, ``}``, ``:`` and the glob characters ``*?[]\\``), so a
  part can contain none of the separators: a user id like ``x}:y`` cannot close the hash tag early, and
  ``("a:b", "c")`` cannot produce the same key as ``("a", "b:c")``. Escaping ``%`` itself keeps the
  mapping injective; escaping the glob characters lets `workspace_pattern` be used with ``SCAN MATCH``
  without a crafted id widening the pattern.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.session import SessionKey

_ESCAPED = "%{}:*?[]\\"
_ESCAPES = str.maketrans({char: f"%{ord(char):02X}" for char in _ESCAPED})

SESSION = "session"
SEEN = "seen"  # sorted set of processed event ids (dedupe)
RATE = "rate"  # reserved for the rate limiter
KINDS = (SESSION, SEEN, RATE)


def escape(part: str) -> str:
    """Percent-escape the characters that have a meaning in our keys or in a SCAN pattern."""
    return part.translate(_ESCAPES)


@dataclass(frozen=True, slots=True)
class KeyBuilder:
    """Builds every Redis key of the bot. `prefix` namespaces a deployment (or a test run)."""

    prefix: str = "taikai"

    def __post_init__(self) -> None:
        # The prefix comes from configuration, not from users, but a brace in it would move the hash tag.
        if not self.prefix or any(char in self.prefix for char in "{}*?[]\\"):
            raise ValueError(f"key prefix must be non-empty, without braces or globs: {self.prefix!r}")

    @staticmethod
    def tag_for(*parts: str) -> str:
        """A hash tag (braces included) over escaped `parts`: the only place one is built."""
        return "{" + ":".join(escape(part) for part in parts) + "}"

    def tag(self, key: SessionKey) -> str:
        """The hash tag shared by all of the user's keys (braces included)."""
        return self.tag_for(key.channel, key.workspace, key.user)

    def oauth_state(self, state: str) -> str:
        """An issued Slack OAuth state (no hash tag: one key, read and deleted alone)."""
        return f"{self.prefix}:slack-oauth-state:{escape(state)}"

    def session(self, key: SessionKey) -> str:
        return self._build(key, SESSION)

    def seen(self, key: SessionKey) -> str:
        return self._build(key, SEEN)

    def rate(self, key: SessionKey) -> str:
        return self._build(key, RATE)

    def user_keys(self, key: SessionKey) -> tuple[str, ...]:
        """Every key the bot may hold for the user: what `erase` deletes (all in one slot)."""
        return tuple(self._build(key, kind) for kind in KINDS)

    @staticmethod
    def tag_of(name: bytes) -> bytes:
        """The hash tag (braces included) of a key this builder made: its user, for grouping SCAN results."""
        return name[name.index(b"{") : name.index(b"}") + 1]

    def workspace_pattern(self, channel: str, workspace: str) -> str:
        """A ``SCAN MATCH`` pattern for every key of every user of one workspace (Slack uninstall).

        On Redis Cluster the users of a workspace are spread over all slots: SCAN each primary.
        """
        return f"{self.prefix}:{{{escape(channel)}:{escape(workspace)}:*}}:*"

    def _build(self, key: SessionKey, kind: str) -> str:
        return f"{self.prefix}:{self.tag(key)}:{kind}"
