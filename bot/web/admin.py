"""The operators' console: `/admin` (a page) and `/admin/api/usage` (its JSON), read-only, behind
ADMIN_TOKEN (HTTP Basic with the token as the password, for a browser; or `Authorization: Bearer`).

Counts only (`bot.telemetry.usage`): users per state per flow as a funnel, where typed replies were asked
back or not understood, checklist lines still pending by kind, reminders and kept replies per day. No
message text, no user id. The page is drawn on the server (no script), every value escaped.
"""

from __future__ import annotations

import base64
import datetime as dt
import hmac
import html
import logging
import re
from collections.abc import Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from bot.telemetry.usage import LATER, REMINDERS, STRUGGLES, Usage

log = logging.getLogger(__name__)
REALM = 'Basic realm="taikai-bot console", charset="UTF-8"'
HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
REMINDER_WORDS = {
    "scheduled": "予約",
    "delivered": "送信",
    "postponed": "延期",
    "failed": "失敗",
    "dropped": "取りやめ",
    "cancelled": "取り消し",
    "over_limit": "上限超え",
}
LATER_WORDS = {"kept": "保留", "delivered": "送信", "retried": "再試行", "lost": "失敗", "dropped": "取りやめ"}
STRUGGLE_WORDS = {
    "asked_back": "聞き返し",
    "reask": "読み取れず",
    "unsure": "わからない",
    "faq": "質問（回答あり）",
    "faq_unknown": "質問（回答なし）",
}


class Console:
    def __init__(self, usage: Usage, token: str) -> None:
        self.usage, self._token = usage, token.encode()

    def routes(self) -> Sequence[BaseRoute]:
        return [Route("/admin", self.page, methods=["GET"]), Route("/admin/api/usage", self.api, methods=["GET"])]

    def allowed(self, request: Request) -> bool:
        scheme, _, value = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer":
            given = value.strip().encode()
        elif scheme.lower() == "basic":
            try:
                given = base64.b64decode(value.strip(), validate=True).partition(b":")[2]
            except ValueError:
                return False
        else:
            return False
        return hmac.compare_digest(given, self._token)

    async def api(self, request: Request) -> Response:
        if not self.allowed(request):
            return _denied()
        report = await self._report(request)
        return JSONResponse(report, headers=HEADERS) if report is not None else _unavailable()

    async def page(self, request: Request) -> Response:
        if not self.allowed(request):
            return _denied()
        report = await self._report(request)
        return HTMLResponse(render(report), headers=HEADERS) if report is not None else _unavailable()

    async def _report(self, request: Request) -> dict[str, Any] | None:
        try:
            return await self.usage.report(_days(request))
        except Exception as exc:  # the store is down: say so, never a 500
            log.warning("console report not read (%s)", type(exc).__name__)
            return None


def _days(request: Request) -> int:
    raw = request.query_params.get("days", "14")
    return min(max(int(raw), 1), 90) if re.fullmatch(r"[0-9]{1,3}", raw) else 14


def _unavailable() -> Response:
    return PlainTextResponse("the store is unavailable: try again shortly", status_code=503, headers=HEADERS)


def _denied() -> Response:
    return PlainTextResponse("unauthorized", status_code=401, headers={"WWW-Authenticate": REALM, **HEADERS})


# --- the page ---------------------------------------------------------------------------------------

STYLE = """
body{font-family:system-ui,"Hiragino Sans","Noto Sans CJK JP",sans-serif;margin:1rem;color:#1d1f23}
.wide{overflow-x:auto}table{border-collapse:collapse;margin:.5rem 0 1.5rem}
th,td{padding:.2rem .6rem;border-bottom:1px solid #ddd;text-align:right;white-space:nowrap}
th:first-child,td:first-child{text-align:left}.bar{background:#067a38;height:.7rem;display:inline-block}
caption{text-align:left;font-weight:bold;padding:.3rem 0}.muted{color:#666}
"""


def _jst(iso: str) -> str:
    """「2026-12-08 09:29 JST」: the operators' own clock."""
    at = dt.datetime.fromisoformat(iso).astimezone(dt.timezone(dt.timedelta(hours=9)))
    return at.strftime("%Y-%m-%d %H:%M JST")


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _table(caption: str, head: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    heads = "".join(f"<th scope=col>{_e(h)}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    table = f"<table><caption>{_e(caption)}</caption><thead><tr>{heads}</tr></thead><tbody>{body}</tbody></table>"
    return f"<div class=wide>{table}</div>"  # a phone scrolls the table sideways, never wraps a name


def render(report: dict[str, Any]) -> str:
    parts = [
        f"<h1>退会ナビ コンソール</h1><p class=muted>{_e(_jst(report['generated_at']))} ・ "
        f"直近{report['active_days']:g}日に話した利用者 {_e(report['users'])}人 ・ "
        f"日別は直近{_e(report['days'])}日</p>"
    ]
    for flow in report["funnel"]:
        top = max((s["users"] for s in flow["states"]), default=0) or 1
        rows = [
            [
                _e(s["title"]),
                _e(s["users"]),
                f'<span class=bar style="width:{round(120 * s["users"] / top)}px"></span>',
                _e(s["entered"]),
                *(_e(s[k]) for k in STRUGGLES),
            ]
            for s in flow["states"]
            if s["users"] or s["entered"] or any(s[k] for k in STRUGGLES)
        ]
        head = ["いまいる場所", "人数", "", "到達（日別合計）", *(STRUGGLE_WORDS[k] for k in STRUGGLES)]
        parts.append(_table(f"{flow['title']}（{flow['flow']}）", head, rows or [["—", "", "", "", *[""] * 5]]))
    titles = {flow["flow"]: flow["title"] for flow in report["funnel"]}
    pending = [[_e(f"{titles.get(p['flow'], p['flow'])}：{p['label']}"), _e(p["users"])] for p in report["pending"]]
    parts.append(_table("残っている項目（要対応・待ち）", ["項目", "人数"], pending or [["—", ""]]))
    daily = [
        [
            _e(d["day"]),
            _e(sum(d["turns"].values())),
            *(_e(d["reminders"][k]) for k in REMINDERS),
            *(_e(d["later"][k]) for k in LATER),
        ]
        for d in report["daily"]
    ]
    head = [
        "日付",
        "ターン",
        *(f"お知らせ：{REMINDER_WORDS[k]}" for k in REMINDERS),
        *(f"再送：{LATER_WORDS[k]}" for k in LATER),
    ]
    parts.append(_table("日別：お知らせと再送", head, daily))
    return (
        "<!doctype html><html lang=ja><meta charset=utf-8><meta name=viewport content='width=device-width'>"
        f"<title>退会ナビ コンソール</title><style>{STYLE}</style><body>{''.join(parts)}</body></html>"
    )
