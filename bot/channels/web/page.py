"""The chat page and its two assets, read once from the package and served with strict headers.

The page's words come from flows/lexicon.yaml (`texts.webchat_*`, the menu's `nav_*`), put into the HTML
escaped; the script reads the ones it shows itself from `data-` attributes. Assets are addressed by a
digest of their content (`chat.js?v=…`), so a browser may cache them and a new release is never mixed with
an old script. Nothing is loaded from another site: the Content-Security-Policy allows this origin only.
"""

from __future__ import annotations

import hashlib
import html
from dataclasses import dataclass
from importlib import resources

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from bot.core.library.spec_words import TextsSpec

ASSETS = {
    "chat.js": "text/javascript; charset=utf-8",
    "chat.css": "text/css; charset=utf-8",
    "icon.svg": "image/svg+xml",
}


@dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    media_type: str
    version: str


def _read(name: str) -> bytes:
    return resources.files("bot.channels.web").joinpath("static", name).read_bytes()


class ChatPage:
    def __init__(self, texts: TextsSpec, frame_ancestors: str = "'self'", max_text: int = 2000) -> None:
        self.assets = {
            name: Asset(body, media, hashlib.sha256(body).hexdigest()[:12])
            for name, media in ASSETS.items()
            for body in (_read(name),)
        }
        words = {
            "title": texts.webchat_title,
            "input_label": texts.webchat_input_label,
            "placeholder": texts.webchat_placeholder,
            "send": texts.webchat_send,
            "copy": texts.webchat_copy,
            "copied": texts.webchat_copied,
            "offline": texts.webchat_offline,
            "you": texts.webchat_you,
            "bot": texts.webchat_bot,
            "no_script": texts.webchat_no_script,
            "busy": texts.busy,
            "limited": texts.rate_limited,
            "too_long": texts.too_long,
            "max_text": str(max_text),
            "menu": texts.menu_bar,
            "nav_back": texts.nav_back,
            "nav_status": texts.nav_status,
            "nav_help": texts.nav_help,
            "nav_restart": texts.nav_restart,
            "js_version": self.assets["chat.js"].version,
            "css_version": self.assets["chat.css"].version,
            "icon_version": self.assets["icon.svg"].version,
        }
        page = _read("chat.html").decode()
        for name, value in words.items():
            page = page.replace("{{" + name + "}}", html.escape(value, quote=True))
        if "{{" in page:
            raise ValueError("chat.html names a word the page does not have")
        self.html = page.encode()
        self.headers = {
            "Content-Security-Policy": (
                "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; "
                f"base-uri 'none'; form-action 'self'; frame-ancestors {frame_ancestors}"
            ),
            "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-store",
        }

    def response(self) -> Response:
        return Response(self.html, media_type="text/html; charset=utf-8", headers=self.headers)

    async def asset(self, request: Request) -> Response:
        found = self.assets.get(request.path_params["name"])
        if found is None:
            return PlainTextResponse("not found", status_code=404)
        cache = "public, max-age=31536000, immutable" if request.query_params.get("v") == found.version else "no-cache"
        headers = {"Cache-Control": cache, "X-Content-Type-Options": "nosniff"}
        return Response(found.body, media_type=found.media_type, headers=headers)
