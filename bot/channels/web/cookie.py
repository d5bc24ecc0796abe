"""The web chat's browser id: a random id in a signed cookie, so a browser keeps its conversation and a
forged or altered cookie is refused (a new one is issued). The signature is an HMAC with WEBCHAT_SECRET:
every replica must share the secret for a browser to keep its session behind a load balancer."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets

COOKIE = "taikai_chat"
VERSION = "v1"
_ID = re.compile(r"[A-Za-z0-9_-]{22}")
_SIGNATURE = re.compile(r"[A-Za-z0-9_-]{43}")  # base64url of 32 bytes, unpadded


class BrowserIds:
    def __init__(self, secret: bytes) -> None:
        if len(secret) < 16:
            raise ValueError("WEBCHAT_SECRET must be at least 16 bytes")
        self._secret = secret

    @staticmethod
    def new() -> str:
        """A fresh browser id: 22 characters, 128 random bits."""
        return secrets.token_urlsafe(16)

    def cookie(self, browser: str) -> str:
        """The cookie value that carries `browser`, signed."""
        return f"{VERSION}.{browser}.{self._sign(browser)}"

    def read(self, cookie: str | None) -> str | None:
        """The browser id in a cookie this server signed; None for a missing, forged or altered one."""
        if not cookie or len(cookie) > 100:
            return None
        version, _, rest = cookie.partition(".")
        browser, _, signature = rest.partition(".")
        if version != VERSION or not _ID.fullmatch(browser) or not _SIGNATURE.fullmatch(signature):
            return None  # (a non-ASCII signature would make compare_digest raise)
        return browser if hmac.compare_digest(signature.encode(), self._sign(browser).encode()) else None

    def _sign(self, browser: str) -> str:
        mac = hmac.new(self._secret, f"{VERSION}.{browser}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()
