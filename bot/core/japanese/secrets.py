"""Recognising messages that look like a password or an access token, so they are never kept or echoed.

False positives are cheap (the user is asked to re-type without it); a stored password is not.
"""

from __future__ import annotations

import re
import unicodedata

# 「パスワードは abcd」「password: abcd」: a keyword, a separator, then an ASCII word of 4+ characters.
_DISCLOSURE = re.compile(
    r"(パスワード|ぱすわーど|暗証番号|password|passwd|\bpw\b|token|トークン)\s*(は|:|：|=|is)\s*[\x21-\x7e]{4,}", re.I
)
_TOKEN = re.compile(r"[\x21-\x7e]+")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", re.I)
_URL = re.compile(r"^(https?://|www\.)", re.I)


def looks_secret(text: str) -> bool:
    """True for text that probably contains a password or an API token."""
    if _DISCLOSURE.search(text):
        return True
    return any(
        _token_looks_secret(token) for token in _TOKEN.findall(text) if not (_URL.match(token) or _EMAIL.match(token))
    )


def _token_looks_secret(token: str) -> bool:
    if len(token) >= 24 and re.fullmatch(r"[A-Za-z0-9_\-.+/=:]+", token):
        return True  # access tokens, API keys, long random strings
    if not 8 <= len(token) <= 128:
        return False
    classes = sum(
        (
            any(c.islower() for c in token),
            any(c.isupper() for c in token),
            any(c.isdigit() for c in token),
            any(not c.isalnum() for c in token),
        )
    )
    has_letter = any(c.isalpha() for c in token)
    has_digit = any(c.isdigit() for c in token)
    return (has_letter and has_digit) or classes >= 3


# Personal data typed where a name or a job title belongs: never stored, never shown back.
_MAIL_ANYWHERE = re.compile(r"[^@\s]+@[^@\s]+\.[a-z]{2,}", re.I)
_PHONE = re.compile(r"(?<!\d)(0\d{1,4}-?\d{1,4}-?\d{3,4}|\+81[\d-]{9,13})(?!\d)")
_CARD = re.compile(r"(?<!\d)(\d[ -]?){13,19}(?!\d)")


def looks_personal(text: str) -> bool:
    """True for an e-mail address, a Japanese phone number or a payment-card number (Luhn) in `text`."""
    folded = unicodedata.normalize("NFKC", text).replace("ー", "-").replace("−", "-")
    if _MAIL_ANYWHERE.search(folded) or _PHONE.search(folded):
        return True
    return any(_luhn(re.sub(r"\D", "", m.group(0))) for m in _CARD.finditer(folded))


def _luhn(digits: str) -> bool:
    if not 13 <= len(digits) <= 19:
        return False
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0
