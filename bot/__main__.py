"""`taikai-bot`: chat in a terminal, serve LINE/Slack, check or draw the flows."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections.abc import Sequence

from bot import __version__
from bot.config import Settings
from bot.core.library.load import FlowsInvalid, load_library
from bot.core.library.model import Library


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(argv)
    except BrokenPipeError:  # `taikai-bot flows graph | head`: the reader left; end quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # so the interpreter's final flush cannot fail again
        return 0


# Long: the argparse declarations of every command, read top to bottom like the CLI's help.


# Long on purpose: one argparse block per command, read top to bottom like `--help`.
def _main(argv: Sequence[str] | None) -> int:
    parser = argparse.ArgumentParser(prog="taikai-bot", description="退会ナビ: a withdrawal guide chatbot")
    parser.add_argument("--version", action="version", version=f"taikai-bot {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    chat = commands.add_parser("chat", help="talk to the bot in this terminal")
    chat.add_argument("--user", default="local", help="session id to use (kept across runs when REDIS_URL is set)")
    chat.add_argument("--echo", action="store_true", help="echo piped input lines (for transcripts)")

    serve = commands.add_parser("serve", help="run the LINE/Slack webhook server")
    serve.add_argument("--host", default=None, help="bind address (default: HOST or 127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="port (default: PORT or 8000)")

    flows = commands.add_parser("flows", help="check or draw the conversation flows")
    flow_commands = flows.add_subparsers(dest="flows_command", required=True)
    flow_commands.add_parser("check", help="validate flows/ and report every problem")
    graph = flow_commands.add_parser("graph", help="print a mermaid diagram of a flow")
    graph.add_argument("flow", nargs="?", default=None, help="flow name (default: all flows)")

    understand = commands.add_parser("understand", help="measure how typed replies are understood")
    understand_commands = understand.add_subparsers(dest="understand_command", required=True)
    evaluate = understand_commands.add_parser("eval", help="grade the engine on corpora of typed replies")
    evaluate.add_argument(
        "corpus",
        nargs="*",
        help="YAML corpora, graded together (default: the development set and the held-out set, each on its own)",
    )
    evaluate.add_argument("--failures", action="store_true", help="list every reply not read correctly")

    line = commands.add_parser("line", help="LINE set-up")
    line_commands = line.add_subparsers(dest="line_command", required=True)
    line_commands.add_parser("richmenu", help="create the rich menu (最初から/状況/ヘルプ) and make it the default")

    args = parser.parse_args(argv)
    settings = Settings()
    if args.command == "flows":
        return _flows(settings, args)
    library = _library_or_exit(settings)
    if args.command == "line":
        from bot.channels.line.richmenu import richmenu_command

        return asyncio.run(richmenu_command(settings, library))
    if args.command == "understand":
        return _understand(settings, library, args)
    if args.command == "chat":
        from bot.wiring import run_terminal_chat

        return asyncio.run(run_terminal_chat(settings, library, args.user, args.echo))
    from bot.wiring import run_server

    return run_server(settings, library, args.host, args.port)


def _understand(settings: Settings, library: Library, args: argparse.Namespace) -> int:
    from pathlib import Path

    from bot.evaluation import STANDARD_SETS, evaluate, load_corpora, report
    from bot.wiring import build_engine

    engine = build_engine(settings, library)
    root = Path(__file__).resolve().parent.parent
    sets = (
        {"given": [Path(c) for c in args.corpus]}
        if args.corpus
        else {n: [root / p for p in ps] for n, ps in STANDARD_SETS.items()}
    )
    missing = [str(path) for paths in sets.values() for path in paths if not path.is_file()]
    if missing:  # e.g. in the image, which has flows/ but not the repository's tests/
        print(
            f"understand eval: corpus not found: {', '.join(missing)}\n"
            "the standard sets live in the repository's tests/understanding/: run it from a checkout, "
            "or name corpus files: taikai-bot understand eval FILE...",
            file=sys.stderr,
        )
        return 2
    for name, paths in sets.items():
        graded = evaluate(engine, load_corpora(paths))
        print(f"## {name} ({len(graded)} replies)")
        print(report(graded, show_failures=args.failures))
    if not args.corpus:  # whole conversations: slots carried, items named, nothing asked twice
        from bot.evaluation import conversations

        for name, path in conversations.STANDARD.items():
            outcomes = conversations.evaluate(engine, conversations.load(root / path))
            print(f"## {name} ({len(outcomes)} conversations)")
            print(conversations.report(outcomes, show_failures=args.failures))
    return 0


def _library_or_exit(settings: Settings) -> Library:
    try:
        return load_library(settings.flows_dir)
    except FlowsInvalid as exc:
        print(f"flows in {settings.flows_dir} have problems:", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        raise SystemExit(2) from None


def _flows(settings: Settings, args: argparse.Namespace) -> int:
    if args.flows_command == "check":
        try:
            library = load_library(settings.flows_dir)
        except FlowsInvalid as exc:
            for problem in exc.problems:
                print(problem, file=sys.stderr)
            print(f"{len(exc.problems)} problem(s) in {settings.flows_dir}", file=sys.stderr)
            return 1
        states = sum(len(f.states) for f in library.flows.values())
        print(
            f"OK: {len(library.flows)} flows, {states} states, {len(library.templates.templates)} templates, "
            f"all {len(library.facts.facts)} facts covered by reachable states"
        )
        return 0
    from bot.core.library.machines import mermaid

    library = _library_or_exit(settings)
    names = [args.flow] if args.flow else list(library.flows)
    for name in names:
        if name not in library.flows:
            print(f"no flow '{name}' (flows: {', '.join(library.flows)})", file=sys.stderr)
            return 1
        print(mermaid(library.flows[name]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
