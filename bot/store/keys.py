"""Every Redis key name of the bot, built so that a crafted id can never reach another user's keys.

Layout of a user's data: ``<prefix>:{<channel>:<workspace>:<user>}:<kind>``, e.g. ``taikai:{line:-:Uabc}:session``.

- The braces are a Redis Cluster hash tag: only the text between the first ``{`` and the next ``}`` is
  hashed, so every key of one user lands in the same slot. That is what lets one Lua script (and one
  ``DEL``) touch all of them atomically on a cluster.
- Each part is percent-escaped (``%``, ``{``, ``}``, ``:`` and the glob characters ``*?[]\\``), so a
  part can contain none of the separators: a user id like ``x}:y`` cannot close the hash tag early, and
  ``("a:b", "c")`` cannot produce the same key as ``("a", "b:c")``. Escaping ``%`` itself keeps the
  mapping injective; escaping the glob characters lets `workspace_pattern` be used with ``SCAN MATCH``
  without a crafted id widening the pattern.

The reminder schedule (saq's jobs and our marks beside them) is not per slot: saq keeps its own keys under
the queue name, and the reminder keys carry a digest of the user (`user_digest`), never the id in clear.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from bot.core.session import SessionKey

_ESCAPED = "%{}:*?[]\\"
_ESCAPES = str.maketrans({char: f"%{ord(char):02X}" for char in _ESCAPED})

SESSION = "session"
SEEN = "seen"  # sorted set of processed event ids (dedupe)
ORDER = "order"  # tickets of the user's turns in flight (a hash, deleted when none is)
INBOX = "inbox"  # messages waiting for a web-chat browser (a list; bot.store.mailbox)
RATE = "bucket"  # the user's rate-limit bucket (a string; "rate" held the hash of an earlier release)


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

    @property
    def log_hash_key(self) -> str:
        """The deployment's key for user pseudonyms in logs, made on first start when LOG_HASH_KEY is unset."""
        return f"{self.prefix}:log-hash-key"

    def oauth_state(self, state: str) -> str:
        """An issued Slack OAuth state (no hash tag: one key, read and deleted alone)."""
        return f"{self.prefix}:slack-oauth-state:{escape(state)}"

    def session(self, key: SessionKey) -> str:
        return self._build(key, SESSION)

    def seen(self, key: SessionKey) -> str:
        return self._build(key, SEEN)

    def order(self, key: SessionKey) -> str:
        return self._build(key, ORDER)

    def rate(self, key: SessionKey) -> str:
        return self._build(key, RATE)

    def inbox(self, key: SessionKey) -> str:
        return self._build(key, INBOX)

    @staticmethod
    def tag_of(name: bytes) -> bytes:
        """The hash tag (braces included) of a key this builder made: its user, for grouping SCAN results."""
        return name[name.index(b"{") : name.index(b"}") + 1]

    def workspace_pattern(self, channel: str, workspace: str) -> str:
        """A ``SCAN MATCH`` pattern for every key of every user of one workspace (Slack uninstall).

        On Redis Cluster the users of a workspace are spread over all slots: SCAN each primary.
        """
        return f"{self.prefix}:{{{escape(channel)}:{escape(workspace)}:*}}:*"

    # --- reminders (bot.reminders) -----------------------------------------------------------------

    @property
    def reminder_queue(self) -> str:
        """The saq queue's name: saq builds its own keys under ``saq:<name>:…``."""
        return f"{self.prefix}-reminders"

    def reminder_job(self, key: SessionKey, reminder_id: str) -> str:
        """The saq job key of one reminder: saq keeps one pending job per key."""
        return f"{self.prefix}:reminder:{user_digest(key)}:{reminder_id}"

    def reminder_claim(self, key: SessionKey, reminder_id: str) -> str:
        """Held while one attempt of a reminder runs."""
        return f"{self.prefix}:reminder-claim:{user_digest(key)}:{reminder_id}"

    def reminder_marks(self, key: SessionKey, week: str) -> str:
        """One hash per user and ISO week (``2026w49``): ``n``, how many reminders were sent, and a field per
        reminder settled that week (1 sent, 0 found moot), so a re-run stops at once. One key, not one per
        reminder plus a counter: ~130 B a user instead of ~260 (docs/benchmark.md)."""
        return f"{self.prefix}:reminder-marks:{user_digest(key)}:{week}"

    # --- the outbox (bot.reminders.outbox): replies that could not be sent, sent later -----------------------

    def outbox_job(self, key: SessionKey, payload_id: str) -> str:
        """The saq job key of one kept reply (`payload_id`: a digest of what it holds)."""
        return f"{self.prefix}:later:{user_digest(key)}:{payload_id}"

    def outbox_index(self, key: SessionKey) -> str:
        """The user's kept replies' job keys, so that 削除 can find and delete them."""
        return f"{self.prefix}:later-index:{user_digest(key)}"

    def outbox_done(self, job_key: str) -> str:
        """How many units of a kept reply were sent: a re-run goes on from there."""
        return f"{job_key}:done"

    def _build(self, key: SessionKey, kind: str) -> str:
        return f"{self.prefix}:{self.tag(key)}:{kind}"


def user_digest(key: SessionKey) -> str:
    """A short digest of the user, so reminder keys never hold a user id in clear."""
    return hashlib.blake2b(f"{key.channel}\0{key.workspace}\0{key.user}".encode(), digest_size=8).hexdigest()
