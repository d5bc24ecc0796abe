"""The conversation engine: `handle(session, inbound, now) -> Turn`, pure and synchronous.

No I/O happens here: the caller loads the session, calls `handle`, saves `turn.session` (or erases
the user when it is None), carries out `turn.effects` (reminders) and sends `turn.replies` through its
channel. Every path ends with a question to answer (or, after 削除, the menu), so the user is never left
without a way on. Moves are decided by each flow's shared `transitions` machine (`machines.fire`); the
engine drives it and keeps what a machine cannot: the back-history, the queue of platforms and the items.

The engine is the one place that knows every kind of input, so it stays over 300 lines; what each input
does lives beside it: what a typed reply means (understanding/decide.py), items (items.py), reminders (reminding.py),
fill-ins (fillins.py), showing (present.py), offered choices (offers.py).
"""

from __future__ import annotations

from bot.core.dialogue import items, reminding, slots
from bot.core.dialogue.checklist import build_checklist, facts_for
from bot.core.dialogue.fillins import KEEP, READDRESS, RENAME, SKIP, FillIns, FillStep, asked
from bot.core.dialogue.offers import offered, trigger_of
from bot.core.dialogue.present import Presenter, value
from bot.core.japanese.normalize import normalize
from bot.core.japanese.secrets import looks_secret
from bot.core.library.machines import ROUTE_TRIGGER, STUB_PREFIX, Cursor, fire
from bot.core.library.model import COMMON, Choice, Library, State
from bot.core.library.templates import TemplateBook
from bot.core.messages import (
    ChoiceInput,
    CommandInput,
    Inbound,
    Option,
    Question,
    ReminderInput,
    StartInput,
    Text,
    TurnOutcome,
    TurnTrace,
)
from bot.core.session import Session, Step
from bot.core.turn import Out, Turn
from bot.core.understanding.decide import Act, Understanding
from bot.core.understanding.interpret import Analyzer
from bot.core.understanding.reader import Reader

COMMANDS = frozenset({"back", "restart", "help", "status", "stop_reminders", "erase", "repeat", "start"})
MAX_HOPS = 64  # route states passed in one turn; flows check rejects loops, this is the last guard

__all__ = ["Engine", "Turn"]


class Engine:
    def __init__(
        self,
        library: Library,
        resume_after: int = 6 * 3600,
        max_text: int = 2000,
        analyzer: Analyzer | None = None,
    ) -> None:
        self.library = library
        self.analyzer = analyzer
        self.reader = Reader(library, analyzer)
        self.understanding = Understanding(library, self.reader)
        self.resume_after = resume_after
        self.max_text = max_text
        self.book = TemplateBook(library.templates)
        self.fills = FillIns(library, self.book, self.reader.analyze)
        self.present = Presenter(library, self.book, self.fills)
        self.slots = slots.Slots(library, self.reader)
        common = library.flows[COMMON]
        self.start = f"{COMMON}:{common.initial}"
        self.after_all = f"{COMMON}:{common.after_all}"
        self.undo_words = frozenset(normalize(w) for w in library.lexicon.undo)

    # --- entry point ---------------------------------------------------------------------------

    def handle(self, session: Session | None, inbound: Inbound, now: int) -> Turn:
        out = Out(now=now)
        fresh = session is None or self._current(session) is None
        current: Session = self._new(now) if session is None or fresh else self._repaired(session)
        returning = isinstance(inbound, StartInput) or now - current.updated >= self.resume_after
        if not fresh and returning:
            out.say(self.library.texts.resume.format(where=self.where(current)))
        before = f"{current.flow}:{current.state}"
        result = self._dispatch(current, inbound, out, fresh)
        if result is not None:
            result = result.but(updated=now, echoed=out.echoed, menu=out.menu)
        after = "" if result is None else f"{result.flow}:{result.state}"
        trace = TurnTrace(out.outcome, before, after, tuple(out.entered), tuple(out.templates), out.choice)
        return Turn(result, tuple(out.replies), trace, tuple(out.effects))

    def where(self, session: Session) -> str:
        """「ランサーズ：提案中の仕事」: the flow and step, for summaries."""
        state = self._current(session)
        flow = self.library.flows[session.flow]
        return f"{flow.title}：{state.title}" if state else flow.title

    def _dispatch(self, session: Session, inbound: Inbound, out: Out, fresh: bool) -> Session | None:
        if isinstance(inbound, ReminderInput):
            return self._reminder_due(session, inbound.id, out)
        if isinstance(inbound, StartInput):  # the terminal's next start delivers what fell due meanwhile
            due = next((r for r in session.reminders if r.due <= out.now), None)
            if due is not None:
                return self._reminder_due(session, due.id, out)
        if isinstance(inbound, StartInput) or (isinstance(inbound, CommandInput) and inbound.name == "start"):
            out.outcome = TurnOutcome.START
            return self._go(session, self.start, out) if fresh else self._show(session, out, full=True)
        if isinstance(inbound, CommandInput):
            return self._command(session, inbound.name, out)
        if isinstance(inbound, ChoiceInput):
            return self._tap(session, inbound, out)
        return self._text(session, inbound.text, out, fresh)

    # --- typed text ----------------------------------------------------------------------------

    def _text(self, session: Session, text: str, out: Out, fresh: bool) -> Session | None:
        """Guards, commands and fill-ins; then the answer to the question (`_answer`)."""
        norm = normalize(text)
        too_long, secret = len(text) > self.max_text, looks_secret(text)
        refusal = TurnOutcome.TOO_LONG if too_long else TurnOutcome.SECRET if secret else None
        if refusal is not None:
            out.outcome = refusal
            out.say(self.library.texts.too_long if too_long else self.library.texts.secret)
            return self._show(session, out)
        if not text.strip():  # a blank line: the current question again, nothing to refuse
            out.outcome = TurnOutcome.START if fresh else TurnOutcome.COMMAND
            return self._go(session, self.start, out) if fresh else self._show(session, out)
        command = self.library.vocabulary.command(norm)
        if command is not None:
            return self._command_or_yes(session, command, out, text)
        if session.filling:
            return self._fill(session, None, text, norm, out)
        state = self._state(session)
        change = self.present.change_typed(session, state, norm)
        if change is not None:  # 「宛名を変える」「署名を変える」 typed under a client message
            return self._change(session, change, out)
        if session.echoed and norm in self.undo_words:  # 「違う」 right after 「〜ですね」: undo that answer
            return self._command(session, "back", out)
        return self._answer(session, state, text, norm, out, fresh)

    def _answer(self, session: Session, state: State, text: str, norm: str, out: Out, fresh: bool) -> Session | None:
        """What the reply means (`Understanding.decide`, most certain reading first), then act on it."""
        choices = self._offered(session, state)
        decision = self.understanding.decide(state, choices, text, norm, fresh, session.menu)
        act = decision.act
        # under a lone 「次へ」, a reply that answers the question it leads to is that answer too, whether it
        # was also read as consent (「片づいた」), as nothing, or as a command in words (「まだ作業が残ってます」)
        lone = choices[0] if len(choices) == 1 and norm not in choices[0].candidate.words else None
        said_command = act is Act.COMMAND and decision.said
        if lone is not None and (act in (Act.CHOOSE, Act.UNDERSTOOD, Act.REASK, Act.SHOW) or said_command):
            ahead = self._answered_ahead(session, state, lone, text, norm, out)
            if ahead is not None:
                return ahead
        if act is Act.CHOOSE or act is Act.UNDERSTOOD:
            choice = next(c for c in choices if c.id == decision.choice)
            heard = self.slots.hear(session, state, choice, text)  # what else the reply said (slots.py)
            mark = slots.undo_mark(session.heard) if heard.heard != session.heard else None
            if act is Act.CHOOSE:  # a label, a number, a yes/no word: certain, nothing to echo
                return self._choose(heard, state, choice, out, mark)
            return self._understood(heard, state, choice, out, mark)
        if act is Act.COMMAND and decision.command is not None:
            if decision.said and not decision.sure:  # 「削除はまた今度」: run (its confirmation again), not a yes
                return self._command(session, decision.command, out)
            return self._command_or_yes(session, decision.command, out, text)
        if act is Act.ASK_BACK:
            return self._ask_back(session, state, choices, decision.others, out)
        if act is Act.QUESTION:
            return self._answer_question(session, state, decision.lemmas, out)
        if act is Act.UNSURE:
            return self._unsure(session, state, out)
        if act is Act.GREET:  # a first message: greet, then take what it asks for, or show the menu
            said = self.understanding.decide(state, choices, text, norm, False, ())
            if said.act is Act.UNDERSTOOD and said.choice is not None:  # 「ランサーズ退会したいです」 as a hello
                for line in state.says:  # the greeting and the safety note, once
                    out.say(self.present.fill_open(session, line))
                return self._answer(session, state, text, norm, out, fresh=False)
            out.outcome = TurnOutcome.START
            return self._go(session, self.start, out)
        if act is Act.SHOW:
            out.outcome = TurnOutcome.COMMAND
            return self._show(session, out)
        return self._reask(session, out)

    def _answered_ahead(
        self, session: Session, state: State, lone: Choice, text: str, norm: str, out: Out
    ) -> Session | None:
        """「まだ作業が残ってます」 under a lone 「次へ」 answers the question it leads to: move on, and that
        question takes the answer (confirmed in one line, never asked blind). None: it does not answer it."""
        if lone.target is None or lone.target.startswith("@"):
            return None
        following = self.library.state(self.library.resolve(state.flow, lone.target))
        if following is None or following.ask is None or following.template:
            return None
        options = self._offered(session, following)
        decision = self.understanding.decide(following, options, text, norm, False, ())
        if decision.act not in (Act.CHOOSE, Act.UNDERSTOOD) or decision.choice is None or len(options) < 2:
            return None
        if self.understanding.asks_for_something(text):  # 「残りの作業を見たい」: the command, as said
            return None
        # its own words, not a bare yes/no (「ないです」 under an explanation: "no questions")
        chosen = next(c for c in options if c.id == decision.choice)
        analysis = None if norm in chosen.candidate.words else self.reader.analyze(text)
        if analysis is not None and not self.reader.read(analysis, options, following).certain:
            return None
        heard = session.but(heard={**session.heard, following.key: decision.choice})
        return self._choose(heard, state, lone, out, slots.undo_mark(session.heard))

    def _understood(
        self, session: Session, state: State, choice: Choice, out: Out, heard: items.Mark | None = None
    ) -> Session | None:
        """Take the choice, first saying in a few words what was understood, so a misreading shows. 「違う」
        next undoes it, unless the next question offers a no: there 「違う」 is that answer, and 「戻る」 undoes."""
        at = len(out.replies)
        result = self._choose(session, state, choice, out, heard)
        current = None if result is None else self._current(result)
        negatable = (
            result is not None and current is not None and any(c.means == "no" for c in self._offered(result, current))
        )
        line = self.library.texts.understood_back if negatable else self.library.texts.understood
        out.replies.insert(at, Text(line.format(label=choice.label)))
        out.echoed = out.outcome is TurnOutcome.ANSWERED and not negatable
        return result

    def _ask_back(
        self, session: Session, state: State, choices: list[Choice], others: tuple[str, ...], out: Out
    ) -> Session:
        """Cues conflict or the reply is hedged: offer the likely choices instead of guessing."""
        out.outcome = TurnOutcome.ASKED_BACK
        likely = [c for id_ in others for c in choices if c.id == id_][:2]
        labels = {f"label{i}": c.label for i, c in enumerate(likely, 1)}
        options = tuple(Option(c.label, value(state, c.id)) for c in likely)
        out.replies.append(Question(self.library.texts.ask_back.format(**labels), options))
        out.menu = tuple(c.id for c in likely)
        return session

    def _answer_question(self, session: Session, state: State, lemmas: frozenset[str], out: Out) -> Session:
        """A question mid-flow: answered from the FAQ in flows/, or an honest "not here" with the help page."""
        before = session.history[-1] if session.history else None
        screen = self.library.state(f"{before.flow}:{before.state}") if before else None
        faq = self.reader.faq(state, lemmas, (screen,) if screen is not None and screen.ask is None else ())
        if faq is not None:
            out.outcome = TurnOutcome.FAQ
            out.say(faq.say)
        else:
            out.outcome = TurnOutcome.FAQ_UNKNOWN
            where = self.library.flows[state.flow].confirm or self.library.texts.faq_help
            out.say(self.library.texts.faq_unknown.format(where=where))
        return self._show(session, out)

    def _unsure(self, session: Session, state: State, out: Out) -> Session:
        out.outcome = TurnOutcome.UNSURE
        out.say(state.unsure or self.library.texts.unsure_reask)
        return self._show(session, out)

    def _reask(self, session: Session, out: Out) -> Session:
        out.outcome = TurnOutcome.REASK
        count = 2 if session.filling else len(self._offered(session, self._state(session)))
        out.say(self.library.texts.reask.format(count=str(count)) if count > 1 else self.library.texts.reask_one)
        return self._show(session, out)

    # --- buttons and choices -------------------------------------------------------------------

    def _tap(self, session: Session, tap: ChoiceInput, out: Out) -> Session | None:
        here = (tap.flow, tap.state) == (session.flow, session.state)
        if here and session.filling and tap.choice in (SKIP, KEEP):
            return self._fill(session, tap.choice, "", "", out)
        if here and not session.filling and tap.choice in (RENAME, READDRESS):
            return self._change(session, tap.choice, out)
        if here and not session.filling:
            state = self._state(session)
            choice = next((c for c in self._offered(session, state) if c.id == tap.choice), None)
            if choice is not None:
                return self._choose(session, state, choice, out)
        return self._stale(session, out)

    def _stale(self, session: Session, out: Out) -> Session:
        out.outcome = TurnOutcome.STALE
        out.say(self.library.texts.stale_choice)
        return self._show(session, out)

    def _choose(
        self, session: Session, state: State, choice: Choice, out: Out, heard: items.Mark | None = None
    ) -> Session | None:
        """Take `choice` at `state`; `heard`: how to undo what the reply also said (slots.py)."""
        if out.choice is None:  # the reply's own answer, not one heard before and taken on the way
            out.choice = trigger_of(choice.id)
        if choice.action == "erase":
            reminding.cancel_all(session, out)
            out.say(self.library.texts.erased)
            self._go(self._new(session.updated), self.start, out)  # the menu, for a fresh start
            out.outcome = TurnOutcome.ERASED
            return None
        if choice.action == "restart":
            return self._restart(session, out)
        cursor = Cursor(state.name, facts_for(self.library, session, state.flow) if choice.when else None)
        destination = fire(self.library.flows[state.flow].machine, cursor, trigger_of(choice.id))
        if destination is None:  # offered a moment ago, refused now by the machine: an old button
            return self._stale(session, out)
        if choice.reset:  # confirmed beforehand; not undoable (戻る returns to the confirmation)
            session = slots.Slots.forget(items.reset(session, state.flow), state.flow)
        moved, undo = items.moved(self.library, session, state, choice, out)
        if moved is None:  # no room for another item of that kind: say so and ask again
            return self._show(session, out)
        if choice.add is not None:
            moved = self.slots.name_added(moved, state.flow, choice.add)
            first = self.slots.first_of_several(moved, state.flow, choice.add)
            if first:  # 「2件です。山田さんの…と、佐藤様の…」: say which one comes first
                out.say(first)
        if heard is not None:
            undo += (heard,)
        undo += tuple((key, moved.answer(state.flow, key)) for key, _ in choice.set)
        # the queue may change in this step (a choice sets it, or @next pops it): keep it for 戻る
        step = Step(state.flow, state.name, undo, session.queue if choice.queue is not None or session.queue else None)
        moved = moved.with_answers(state.flow, dict(choice.set)) if choice.set else moved
        if choice.queue is not None:
            moved = moved.but(queue=choice.queue)
        if choice.remind is not None:
            moved = reminding.schedule(self.library, moved, state.flow, choice.remind, out)
        target = self._target(state.flow, destination)
        if target == "@back":  # leave this state the way the user came: no new history step for it
            return self._back(moved, out, announce=False)
        return self._go(moved.push(step), target, out)

    # --- commands ------------------------------------------------------------------------------

    def _command(self, session: Session, name: str, out: Out) -> Session | None:
        out.outcome = TurnOutcome.COMMAND
        out.choice = f"@{name}"
        if name == "back":
            return self._back(session, out, announce=True)
        if name == "restart":
            target = self.library.lexicon.restart_target
            if target and session.answers and f"{session.flow}:{session.state}" != self.library.resolve(COMMON, target):
                return self._go(session.but(filling=None).push(Step(session.flow, session.state)), target, out)
            return self._restart(session, out)
        if name not in COMMANDS:
            out.outcome = TurnOutcome.STALE  # a command this version does not know (an old rich menu): where we are
        if name == "help":
            out.say(self.library.texts.help)
            state = self._current(session)
            if state is not None and state.help and not session.filling:
                out.say(state.help.strip())
        elif name == "status":
            out.replies.append(build_checklist(self.library, session))
        elif name == "stop_reminders":
            out.say(self.library.texts.reminders_stopped if session.reminders else self.library.texts.reminders_none)
            session = reminding.cancel_all(session, out)
        elif name == "erase":
            cleared = session.but(filling=None).push(Step(session.flow, session.state))
            return self._go(cleared, self.library.lexicon.erase_target, out)
        # "repeat" (a sticker, a tap on an old menu): the current question again, as after help and status
        return self._show(session, out)

    def _command_or_yes(self, session: Session, name: str, out: Out, text: str = "") -> Session | None:
        """「削除してください」 typed at 「削除しますか？」 means yes to it, not the command again (one reply is
        handled once: answered, never re-asked) — unless it hesitates (「消すかどうか迷ってます」): then which."""
        confirms = {"erase": self.library.lexicon.erase_target, "restart": self.library.lexicon.restart_target}
        if session.filling is None and self._current(session) is not None:
            state = self._state(session)
            offered = self._offered(session, state)
            if confirms.get(name) == f"{session.flow}:{session.state}":
                yes = next((c for c in offered if c.means == "yes"), None)
                if yes is not None and self.understanding.hesitant(offered, yes.id, text):
                    no = [c.id for c in offered if c.means == "no"]
                    return self._ask_back(session, state, offered, (yes.id, *no[:1]), out)
                if yes is not None:
                    return self._choose(session, state, yes, out)
            # 「記録を削除して」 at a menu that offers 削除 itself: that choice (its action or its id is the command)
            same = next((c for c in offered if name in (c.action, c.id)), None)
            if same is not None:
                return self._choose(session, state, same, out)
        return self._command(session, name, out)

    def _restart(self, session: Session, out: Out) -> Session:
        reminding.cancel_all(session, out)
        out.say(self.library.texts.restarted)
        return self._go(self._new(session.updated), self.start, out)

    def _back(self, session: Session, out: Out, announce: bool) -> Session:
        if session.filling:  # 戻る among a client message's fill-ins: the field asked before this one
            fields = self.book.placeholders.get(self._state(session).template or "", [])
            name = asked(session.filling)
            if name in fields and fields.index(name) > 0:
                if announce:
                    out.say(self.library.texts.back_done)
                return self._show(session.but(filling=fields[fields.index(name) - 1]), out)
        if not session.history:
            out.say(self.library.texts.back_none)
            return self._show(session, out)
        step = session.history[-1]
        restored = session.but(flow=step.flow, state=step.state, filling=None, history=session.history[:-1])
        if self._current(restored) is None:  # the flows changed under a saved history
            return self._go(self._new(session.updated), self.start, out)
        restored = items.undo(restored, step) if step.undo else restored
        if step.queue is not None:
            restored = restored.but(queue=step.queue)
        if announce:
            out.say(self.library.texts.back_done)
        template = self._state(restored).template
        if template:  # back to a client message: show it again, or go on with its unfinished fill-ins
            if all(name in restored.fields for name in self.book.placeholders[template]):
                return self._show(restored, out, full=True)
            return self._go(restored, f"{restored.flow}:{restored.state}", out)
        return self._show(restored, out, full=self._state(restored).ask is None)  # advice: all of it again

    def _reminder_due(self, session: Session, reminder_id: str, out: Out) -> Session:
        """A reminder fell due: continue the conversation where it is about — or drop it silently when its
        reason is gone (the payout arrived, the user restarted or erased)."""
        reminder, spec, rest = reminding.due(self.library, session, reminder_id)
        if reminder is None or spec is None:
            out.outcome = TurnOutcome.REMINDER_DROPPED
            return rest
        out.outcome = TurnOutcome.REMINDER
        out.say(
            self.library.texts.reminder_intro.format(flow=self.library.flows[reminder.flow].title, label=spec.label)
        )
        return self._go(rest.but(flow=reminder.flow, filling=None), spec.due, out)

    # --- template fill-ins ---------------------------------------------------------------------

    def _fill(self, session: Session, tap: str | None, text: str, norm: str, out: Out) -> Session:
        state = self._state(session)
        result = self.fills.answer(session, state, tap, text, norm)
        step, filled = result.step, result.session
        texts = self.library.texts
        label = self.library.templates.fields[asked(session.filling)].label
        refusals = {
            FillStep.TYPE_IT: texts.fill_type_it,
            FillStep.PERSONAL: texts.fill_personal,
            FillStep.NOT_NAME: texts.fill_not_name,
            FillStep.NO_PREVIOUS: texts.fill_no_previous.format(label=label),
        }
        if step in refusals:
            out.outcome = TurnOutcome.REASK
            out.say(refusals[step])
            return self._show(session, out)
        if step is FillStep.REASK:
            return self._reask(session, out)
        if result.note:  # what the reading will write: 「宛名は「合同会社ネクスト 木村様」にします。」
            out.say(result.note)
        if step is FillStep.DONE:
            filled = items.name_item(self.library, self.book, filled, state)
        return self._show(filled, out, full=step is FillStep.DONE)

    def _change(self, session: Session, choice: str, out: Out) -> Session:
        """「宛名を変える」「署名を変える」 under a template: ask that field again, then show the template again."""
        field = self.present.changeable(session, self._state(session), choice)
        return self._show(session, out) if field is None else self.present.asking(session, field, out)

    # --- moving and showing --------------------------------------------------------------------

    def _go(self, session: Session, target: str, out: Out) -> Session:
        """Enter `target`, passing through route states (the machine picks the branch), and show it."""
        for _ in range(MAX_HOPS):
            if target == "@back":
                return self._back(session, out, announce=False)
            if target == "@next":  # the next platform on the 「両方」 path, or the finish
                target = f"{session.queue[0]}:" if session.queue else self.after_all
                session = session.but(queue=session.queue[1:])
            where = self.library.resolve(session.flow, target)
            state = self.library.state(where)
            if state is None:  # flows check makes this unreachable; recover rather than crash
                return self._go(self._new(session.updated), self.start, out)
            out.entered.append(where)
            session = session.but(flow=state.flow, state=state.name, filling=None)
            if state.routes is None:
                known = None if state.template else self.slots.known(session, state)
                if known is not None:  # said before it was asked: confirmed in one line, not asked again
                    out.say(known.line)
                    taken = self._choose(known.session, state, known.choice, out)
                    return taken if taken is not None else self._show(known.session, out, full=True)
                if state.template:
                    session = self.fills.from_item(session, state)
                wanted = self.book.fields_to_ask(state.template, session.fields) if state.template else []
                if wanted:
                    out.say(self.library.texts.fill_intro)
                    return self._show(session.but(filling=wanted[0]), out)
                return self._show(session, out, full=True)
            cursor = Cursor(state.name, facts_for(self.library, session, state.flow))
            routed = fire(self.library.flows[state.flow].machine, cursor, ROUTE_TRIGGER)
            if routed is None:  # flows check requires a default branch; recover rather than crash
                return self._go(self._new(session.updated), self.start, out)
            target = self._target(state.flow, routed)
        raise RuntimeError(f"route loop at {target}")

    def _show(self, session: Session, out: Out, full: bool = False) -> Session:
        return self.present.show(session, out, full)

    # --- helpers -------------------------------------------------------------------------------

    def _new(self, now: int) -> Session:
        flow, _, state = self.start.partition(":")
        return Session(flow=flow, state=state, updated=now)

    def _repaired(self, session: Session) -> Session:
        """A stored session whose fill-in no longer exists (flows changed) goes back to the question."""
        state = self._current(session)
        if session.filling and (
            state is None or not state.template or asked(session.filling) not in self.book.placeholders[state.template]
        ):
            return session.but(filling=None)
        return session

    def _current(self, session: Session) -> State | None:
        return self.library.state(f"{session.flow}:{session.state}")

    def _state(self, session: Session) -> State:
        return self.present.state(session)

    def _offered(self, session: Session, state: State) -> list[Choice]:
        return offered(self.library, session, state)

    @staticmethod
    def _target(flow: str, destination: str) -> str:
        return destination[len(STUB_PREFIX) :] if destination.startswith(STUB_PREFIX) else f"{flow}:{destination}"
