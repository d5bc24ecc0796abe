"""Password- and token-like messages are recognised (so they are never stored or echoed)."""

from __future__ import annotations

import pytest

from bot.core.japanese.secrets import looks_secret


@pytest.mark.parametrize(
    "text",
    [
        "abc12345",
        "Passw0rd!",
        "パスワードは hogehoge です",
        "password: letmein",
        "pw=qwerty12",
        "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx",
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abc",
        "ログインは taro2024pass でした",
    ],
)
def test_secrets_are_recognised(text: str) -> None:
    assert looks_secret(text)


@pytest.mark.parametrize(
    "text",
    [
        "はい",
        "1",
        "ランサーズ",
        "山田太郎",
        "パスワードを忘れました",
        "password reset",
        "LP制作の件",
        "taro@example.com",
        "https://www.lancers.jp/help",
        "09012345678",
        "Yamada",
        "2026年11月",
        "ok",
    ],
)
def test_ordinary_answers_are_not_secrets(text: str) -> None:
    assert not looks_secret(text)
