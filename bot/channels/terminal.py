"""The terminal channel: `taikai-bot chat`. Interactive on a TTY; one message per line when piped."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterable, Sequence
from typing import TextIO

from bot.channels.base import Turns
from bot.channels.delivery import OutputChannel, deliver
from bot.conversation import UserMessage
from bot.core.japanese.secrets import looks_personal, looks_secret
from bot.core.messages import Checklist, Inbound, Question, Reply, StartInput, Template, Text, TextInput
from bot.core.session import SessionKey

QUIT_WORDS = frozenset({"exit", "quit", ":q", "終了", "おわり"})
RULE = "─" * 24
HIDDEN = "＊＊＊（表示しません）"


def render(reply: Reply) -> str:
    """A reply as terminal text: numbered choices (typing the number answers), framed templates."""
    if isinstance(reply, Text):
        return reply.text
    if isinstance(reply, Question):
        lines = [reply.text, *(f"  {i}. {option.label}" for i, option in enumerate(reply.options, 1))]
        return "\n".join(lines)
    if isinstance(reply, Template):
        return f"┌{RULE} {reply.title}（コピー用）\n{reply.body}\n└{RULE}"
    if isinstance(reply, Checklist):
        return reply.as_text()
    raise TypeError(f"unknown reply {reply!r}")


def render_all(replies: Iterable[Reply]) -> str:
    return "\n\n".join(render(r) for r in replies)


class TerminalOutput(OutputChannel):
    def __init__(self, stdout: TextIO) -> None:
        self.stdout = stdout

    async def send(self, replies: Sequence[Reply]) -> str:
        self.stdout.write(render_all(replies) + "\n\n")
        self.stdout.flush()
        return "printed"


async def run_chat(
    conversation: Turns,
    key: SessionKey,
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
    echo: bool = False,
) -> None:
    """Greet (or resume), then answer each line until end of input or a quit word."""
    interactive = stdin.isatty() and stdout.isatty()
    output = TerminalOutput(stdout)

    async def send(inbound: Inbound) -> None:
        await deliver(await conversation.handle(UserMessage(key, inbound)), output)

    await send(StartInput())
    loop = asyncio.get_running_loop()
    while True:
        if interactive:
            stdout.write("あなた> ")
            stdout.flush()
        line = await loop.run_in_executor(None, stdin.readline)
        if not line:
            break
        text = line.rstrip("\r\n")
        if text.strip().lower() in QUIT_WORDS:
            break
        if not text.strip():
            continue
        if echo and not interactive:
            shown = HIDDEN if looks_secret(text) or looks_personal(text) else text  # never printed back
            stdout.write(f"あなた> {shown}\n\n")
        await send(TextInput(text))
