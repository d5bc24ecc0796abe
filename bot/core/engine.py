"""The conversation engine: `handle(session, inbound, now) -> Turn`, pure and synchronous.

No I/O happens here: the caller loads the session, calls `handle`, saves `turn.session` (or erases
the user when it is None) and sends `turn.replies` through its channel. Every path ends with the
current question shown again, so the user is never left without something to answer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from bot.core.checklist import build_checklist, facts_for, item_status_open, item_title, open_flow_names
from bot.core.fillins import KEEP, RENAME, SKIP, FillIns, FillStep
from bot.core.interpret import STOP, Analyzer, Meaning, Phrase, Reading, phrases_of, read
from bot.core.machines import ROUTE_TRIGGER, STUB_PREFIX, Cursor, fire
from bot.core.messages import (
    CancelReminders,
    ChoiceInput,
    CommandInput,
    Effect,
    Inbound,
    Option,
    Question,
    ReminderInput,
    Reply,
    ScheduleReminder,
    StartInput,
    Text,
    TurnTrace,
)
from bot.core.model import COMMON, Choice, Library, State
from bot.core.reminders import due_at, in_hours
from bot.core.reminders import shown as shown_time
from bot.core.secrets import looks_secret
from bot.core.session import ADDED, CURRENT, ITEM_PREFIX, MAX_REMINDERS, Reminder, Session, Step
from bot.core.templates import TemplateBook
from bot.core.understand import candidate, match_choice, normalize

MAX_HOPS = 64  # route states passed in one turn; flows check rejects loops, this is the last guard
EACH = "~"  # an `each` button's id: `<choice id>~<item index>`
_PARTS = re.compile(r"[、。,.!?！？\s]+")
OPEN = "{open}"


@dataclass(frozen=True, slots=True)
class Turn:
    session: Session | None  # None: erase everything stored about the user
    replies: tuple[Reply, ...]
    trace: TurnTrace
    effects: tuple[Effect, ...] = ()  # reminders to schedule or cancel once the session is saved


@dataclass
class _Out:
    """Collects one turn's replies and trace while the engine works."""

    replies: list[Reply] = field(default_factory=list)
    entered: list[str] = field(default_factory=list)
    templates: list[str] = field(default_factory=list)
    outcome: str = "answered"
    echoed: bool = False  # this turn said what it understood: 「違う」 next undoes it
    choice: str | None = None
    now: int = 0
    effects: list[Effect] = field(default_factory=list)

    def say(self, text: str) -> None:
        if text:
            self.replies.append(Text(text))


class Engine:
    def __init__(
        self,
        library: Library,
        resume_after: int = 6 * 3600,
        max_text: int = 2000,
        analyzer: Analyzer | None = None,
    ) -> None:
        self.library = library
        self.analyzer = analyzer  # None: labels, aliases and yes/no words only (no dictionary loaded)
        self._phrases: dict[tuple[str, tuple[str, ...], tuple[str, ...]], tuple[Phrase, ...]] = {}
        self.undo_words = frozenset(normalize(w) for w in library.lexicon.undo)
        self._commands: list[tuple[frozenset[str], str]] | None = None
        self._asked: dict[str, frozenset[str]] = {}
        self.resume_after = resume_after
        self.max_text = max_text
        self.book = TemplateBook(library.templates)
        common = library.flows[COMMON]
        self.start = f"{COMMON}:{common.initial}"
        self.after_all = f"{COMMON}:{common.after_all}"
        self.fills = FillIns(library, self.book)
        self.greetings = frozenset(normalize(w) for w in library.lexicon.greetings)
        self.rename_word = normalize(library.text("rename_label", value="").split("（")[0])

    # --- entry point ---------------------------------------------------------------------------

    def handle(self, session: Session | None, inbound: Inbound, now: int) -> Turn:
        out = _Out(now=now)
        fresh = session is None or self._current(session) is None
        current: Session = self._new(now) if session is None or fresh else self._repaired(session)
        returning = isinstance(inbound, StartInput) or now - current.updated >= self.resume_after
        if not fresh and returning:
            out.say(self.library.text("resume", where=self.where(current)))
        before = f"{current.flow}:{current.state}"
        result = self._dispatch(current, inbound, out, fresh)
        if result is not None:
            result = replace(result, updated=now, echoed=out.echoed)
        after = "" if result is None else f"{result.flow}:{result.state}"
        trace = TurnTrace(out.outcome, before, after, tuple(out.entered), tuple(out.templates), out.choice)
        return Turn(result, tuple(out.replies), trace, tuple(out.effects))

    def where(self, session: Session) -> str:
        """「ランサーズ：提案中の仕事」: the flow and step, for summaries."""
        state = self._current(session)
        flow = self.library.flows[session.flow]
        return f"{flow.title}：{state.title}" if state else flow.title

    def _dispatch(self, session: Session, inbound: Inbound, out: _Out, fresh: bool) -> Session | None:
        if isinstance(inbound, ReminderInput):
            return self._reminder_due(session, inbound.id, out)
        if isinstance(inbound, StartInput):  # the terminal's next start delivers what fell due meanwhile
            due = next((r for r in session.reminders if r.due <= out.now), None)
            if due is not None:
                return self._reminder_due(session, due.id, out)
        if isinstance(inbound, StartInput) or (isinstance(inbound, CommandInput) and inbound.name == "start"):
            out.outcome = "start"
            return self._go(session, self.start, out) if fresh else self._show(session, out, full=True)
        if isinstance(inbound, CommandInput):
            return self._command(session, inbound.name, out)
        if isinstance(inbound, ChoiceInput):
            return self._tap(session, inbound, out)
        return self._text(session, inbound.text, out, fresh)

    # --- inputs --------------------------------------------------------------------------------

    def _text(self, session: Session, text: str, out: _Out, fresh: bool) -> Session | None:
        if len(text) > self.max_text:
            out.outcome = "too_long"
            out.say(self.library.text("too_long"))
            return self._show(session, out)
        if looks_secret(text):
            out.outcome = "secret"
            out.say(self.library.text("secret"))
            return self._show(session, out)
        norm = normalize(text)
        if not text.strip():  # a blank line: the current question again, nothing to refuse
            if fresh:
                out.outcome = "start"
                return self._go(session, self.start, out)
            out.outcome = "command"
            return self._show(session, out)
        command = self.library.vocabulary.command(norm)
        if command is not None:
            return self._command(session, command, out)
        if session.filling:
            return self._fill(session, None, text, norm, out)
        state = self._state(session)
        if norm and norm == self.rename_word and self._renamable(session, state):
            return self._rename(session, out)
        if session.echoed and norm in self.undo_words:  # 「違う」 right after 「〜ですね」: undo that answer
            return self._command(session, "back", out)
        offered = self._offered(session, state)
        analysis = None
        labelled = [c for c in offered if norm in c.candidate.words]
        if len(labelled) == 1:  # a label or alias, typed: certain, nothing to echo
            return self._choose(session, state, labelled[0], out)
        if self.analyzer is not None and any(c.number for c in offered):  # 「1」 at a count is one, not button 1
            analysis = self.analyzer(text)
            reading = read(analysis, [c for c in offered if c.number], self._phrases_of)
            if reading.meaning is Meaning.CHOICE:
                return self._understood(session, state, offered, reading, out)
        exact_only = self.analyzer is not None  # the analyzer reads anything but a label, number or yes/no word
        chosen = match_choice(norm, [c.candidate for c in offered], self.library.vocabulary, exact_only)
        if chosen is not None:
            return self._choose(session, state, next(c for c in offered if c.id == chosen), out)
        if fresh:  # a first message that answers nothing: greet and show the menu
            out.outcome = "start"
            return self._go(session, self.start, out)
        if norm in self.greetings:  # 「こんにちは」「ありがとう」: not a wrong answer, just show where we are
            out.outcome = "command"
            return self._show(session, out)
        command = self._natural_command(text)
        if command is not None:  # 「あ、間違えました。戻る」
            return self._command(session, command, out)
        if self.analyzer is not None:
            analysis = analysis or self.analyzer(text)
            reading = read(analysis, offered, self._phrases_of, self._question_lemmas(state.ask or ""))
            if self._is_unsure(norm) and not reading.certain:  # 「まだ確認してない」: how to find out, not a no
                return self._unsure(session, state, out)
            if reading.meaning is not Meaning.CHOICE and not analysis.is_question and analysis.polarity != "no":
                command = self._lemma_command(analysis.lemmas)
                if command is not None:  # 「ひとつ前に戻りたいです」「状況教えて」
                    return self._command(session, command, out)
            if reading.meaning is not Meaning.NONE and not (
                reading.meaning is Meaning.UNSURE and state.unsure is None and not self._is_unsure(norm)
            ):
                return self._act(session, state, offered, reading, analysis.lemmas, out)
        if self._is_unsure(norm):  # 「わからない」: say how to find out, not "not understood"
            return self._unsure(session, state, out)
        fallback = next((c for c in offered if c.fallback), None)
        if fallback is not None and norm:
            return self._choose(session, state, fallback, out)
        return self._reask(session, out)

    # --- understanding -----------------------------------------------------------------------------

    def _phrases_of(self, choice: Choice) -> tuple[Phrase, ...]:
        key = (choice.label, choice.aliases, choice.examples)
        found = self._phrases.get(key)
        if found is None and self.analyzer is not None:
            found = self._phrases[key] = phrases_of(choice, self.analyzer)
        return found or ()

    def _is_unsure(self, norm: str) -> bool:
        return self.library.vocabulary.is_unsure(norm)

    def _natural_command(self, text: str) -> str | None:
        """A command word as the first or last part of a longer message: 「あ、間違えました。戻る」."""
        parts = [normalize(p) for p in _PARTS.split(text) if normalize(p)]
        for part in (parts[-1:] + parts[:1]) if len(parts) > 1 else ():
            found = self.library.vocabulary.command(part)
            if found is not None:
                return found
        return None

    def _act(
        self, session: Session, state: State, offered: list[Choice], reading: Reading, lemmas: frozenset[str], out: _Out
    ) -> Session | None:
        if reading.meaning is Meaning.CHOICE:
            return self._understood(session, state, offered, reading, out)
        if reading.meaning is Meaning.ASK_BACK:
            return self._ask_back(session, state, offered, reading, out)
        if reading.meaning is Meaning.QUESTION:
            return self._answer_question(session, state, lemmas, out)
        return self._unsure(session, state, out)

    def _understood(
        self, session: Session, state: State, offered: list[Choice], reading: Reading, out: _Out
    ) -> Session | None:
        """Take the choice, first saying in a few words what was understood, so a misreading shows."""
        choice = next(c for c in offered if c.id == reading.choice)
        out.say(self.library.text("understood", title=state.title, label=choice.label))
        result = self._choose(session, state, choice, out)
        out.echoed = out.outcome == "answered"
        return result

    def _ask_back(self, session: Session, state: State, offered: list[Choice], reading: Reading, out: _Out) -> Session:
        """Cues conflict or the reply is hedged: offer the likely choices instead of guessing."""
        out.outcome = "asked_back"
        likely = [c for id_ in reading.others for c in offered if c.id == id_]
        labels = {f"label{i}": c.label for i, c in enumerate(likely[:2], 1)}
        options = tuple(Option(c.label, _value(state, c.id)) for c in likely[:2])
        out.replies.append(Question(self.library.text("ask_back", **labels), options))
        return session

    def _answer_question(self, session: Session, state: State, lemmas: frozenset[str], out: _Out) -> Session:
        """A question mid-flow: the state's, the flow's or the common FAQ answers it; else say so honestly."""
        flow = self.library.flows[state.flow]
        for faq in (*state.faq, *flow.faq, *self.library.flows[COMMON].faq):
            if any(self._asks(phrase) <= lemmas for phrase in faq.asks):
                out.outcome = "faq"
                out.say(faq.say)
                return self._show(session, out)
        out.outcome = "faq_unknown"
        out.say(self.library.text("faq_unknown", where=flow.confirm or self.library.text("faq_help")))
        return self._show(session, out)

    def _asks(self, phrase: str) -> frozenset[str]:
        key = (phrase, (), ())
        found = self._phrases.get(key)
        if found is None and self.analyzer is not None:
            found = self._phrases[key] = (Phrase(frozenset(self.analyzer(phrase).lemmas - STOP), None),)
        return found[0].lemmas if found else frozenset({phrase})

    def _lemma_command(self, lemmas: frozenset[str]) -> str | None:
        """A command whose words (as lemmas) are all in the reply, when only one command fits."""
        if self.analyzer is None:
            return None
        if self._commands is None:
            table: list[tuple[frozenset[str], str]] = []
            for name, words in self.library.lexicon.commands.items():
                for word in words:
                    found = frozenset(self.analyzer(word).lemmas - STOP)
                    if found and not word.isascii():
                        table.append((found, str(name)))
            self._commands = table
        hits = {name for found, name in self._commands if found <= lemmas}
        return hits.pop() if len(hits) == 1 else None

    def _question_lemmas(self, ask: str) -> frozenset[str]:
        """Every lemma of the question, ある and する included (is it asking whether something exists?)."""
        found = self._asked.get(ask)
        if found is None and self.analyzer is not None:
            found = self._asked[ask] = self.analyzer(ask).lemmas
        return found or frozenset()

    def _unsure(self, session: Session, state: State, out: _Out) -> Session:
        out.outcome = "unsure"
        out.say(state.unsure or self.library.text("unsure_reask"))
        return self._show(session, out)

    def _reask(self, session: Session, out: _Out) -> Session:
        out.outcome = "reask"
        count = 2 if session.filling else len(self._offered(session, self._state(session)))
        out.say(self.library.text("reask", count=str(count)) if count > 1 else self.library.text("reask_one"))
        return self._show(session, out)

    def _tap(self, session: Session, tap: ChoiceInput, out: _Out) -> Session | None:
        here = (tap.flow, tap.state) == (session.flow, session.state)
        if here and session.filling and tap.choice in (SKIP, KEEP):
            return self._fill(session, tap.choice, "", "", out)
        if here and not session.filling and tap.choice == RENAME:
            return self._rename(session, out)
        if here and not session.filling:
            state = self._state(session)
            choice = next((c for c in self._offered(session, state) if c.id == tap.choice), None)
            if choice is not None:
                return self._choose(session, state, choice, out)
        out.outcome = "stale"
        out.say(self.library.text("stale_choice"))
        return self._show(session, out)

    def _choose(self, session: Session, state: State, choice: Choice, out: _Out) -> Session | None:
        out.choice = choice.id.partition(EACH)[0]
        if choice.action == "erase":
            if session.reminders:
                out.effects.append(CancelReminders(tuple(r.id for r in session.reminders)))
            out.say(self.library.text("erased"))
            self._go(self._new(session.updated), self.start, out)  # the menu, for a fresh start
            out.outcome = "erased"
            return None
        if choice.action == "restart":
            return self._restart(session, out)
        if choice.reset:  # confirmed beforehand; not undoable (戻る returns to the confirmation)
            session = _reset(session, state.flow)
        moved, undo = self._items_moved(session, state, choice, out)
        if moved is None:  # no room for another item of that kind: say so and ask again
            return self._show(session, out)
        undo += tuple((key, moved.answer(state.flow, key)) for key, _ in choice.set)
        # the queue may change in this step (a choice sets it, or @next pops it): keep it for 戻る
        queue = session.queue if choice.queue is not None or session.queue else None
        step = Step(state.flow, state.name, undo, queue)
        moved = moved.with_answers(state.flow, dict(choice.set)) if choice.set else moved
        if choice.queue is not None:
            moved = replace(moved, queue=choice.queue)
        if choice.remind is not None:
            moved = self._schedule(moved, state.flow, choice.remind, out)
        trigger = choice.id.partition(EACH)[0]
        cursor = Cursor(state.name, facts_for(self.library, session, state.flow) if choice.when else None)
        destination = fire(self.library.flows[state.flow].machine, cursor, trigger)
        if destination is None:  # offered a moment ago, refused now: treat as an old button
            out.outcome = "stale"
            out.say(self.library.text("stale_choice"))
            return self._show(session, out)
        target = self._target(state.flow, destination)
        if target == "@back":  # leave this state the way the user came: no new history step for it
            return self._back(moved, out, announce=False)
        return self._go(moved.push(step), target, out)

    def _items_moved(
        self, session: Session, state: State, choice: Choice, out: _Out
    ) -> tuple[Session | None, tuple[tuple[str, str | None], ...]]:
        """Apply a choice's `add` / `each` / `item`; returns the session and how to undo it (None: full)."""
        undo: list[tuple[str, str | None]] = []
        moved = session
        if choice.index is not None or choice.add is not None:
            undo.append((CURRENT, None if session.current is None else str(session.current)))
        if choice.index is not None:
            moved = replace(moved, current=choice.index)
        if choice.add is not None:
            kind = self.library.flows[state.flow].items[choice.add]
            if len(session.items_of(state.flow, choice.add)) >= kind.max:
                out.outcome = "reask"
                out.say(self.library.text("items_full", label=kind.label, max=str(kind.max)))
                return None, ()
            moved = moved.add_item(state.flow, choice.add)
            undo.append((ADDED, None))
        if choice.item:
            item = moved.current_item()
            undo.extend((ITEM_PREFIX + k, None if item is None else item.values.get(k)) for k, _ in choice.item)
            moved = moved.with_item_values(dict(choice.item))
        return moved, tuple(undo)

    def _command(self, session: Session, name: str, out: _Out) -> Session | None:
        out.outcome = "command"
        out.choice = f"@{name}"
        if name == "back":
            return self._back(session, out, announce=True)
        if name == "restart":
            target = self.library.lexicon.restart_target
            if target and session.answers and f"{session.flow}:{session.state}" != self.library.resolve(COMMON, target):
                return self._go(replace(session, filling=None).push(Step(session.flow, session.state)), target, out)
            return self._restart(session, out)
        if name == "help":
            out.say(self.library.text("help"))
            state = self._current(session)
            if state is not None and state.help and not session.filling:
                out.say(state.help.strip())
            return self._show(session, out)
        if name == "status":
            out.replies.append(build_checklist(self.library, session))
            return self._show(session, out)
        if name == "stop_reminders":
            if session.reminders:
                out.effects.append(CancelReminders(tuple(r.id for r in session.reminders)))
            out.say(self.library.text("reminders_stopped" if session.reminders else "reminders_none"))
            return self._show(replace(session, reminders=()), out)
        if name == "erase":
            here = Step(session.flow, session.state)
            cleared = replace(session, filling=None).push(here)
            return self._go(cleared, self.library.lexicon.erase_target, out)
        return self._show(session, out)  # "repeat" (and unknown names): the current question again

    def _restart(self, session: Session, out: _Out) -> Session:
        if session.reminders:
            out.effects.append(CancelReminders(tuple(r.id for r in session.reminders)))
        out.say(self.library.text("restarted"))
        return self._go(self._new(session.updated), self.start, out)

    def _back(self, session: Session, out: _Out, announce: bool) -> Session:
        if not session.history:
            out.say(self.library.text("back_none"))
            return self._show(session, out)
        step = session.history[-1]
        restored = replace(session, flow=step.flow, state=step.state, filling=None, history=session.history[:-1])
        if self._current(restored) is None:  # the flows changed under a saved history
            return self._go(self._new(session.updated), self.start, out)
        if step.undo:
            restored = self._undo(restored, step)
        if step.queue is not None:
            restored = replace(restored, queue=step.queue)
        if announce:
            out.say(self.library.text("back_done"))
        template = self._state(restored).template
        if template:  # back to a client message: show it again, or go on with its unfinished fill-ins
            if all(name in restored.fields for name in self.book.placeholders[template]):
                return self._show(restored, out, full=True)
            return self._go(restored, f"{restored.flow}:{restored.state}", out)
        return self._show(restored, out, full=self._state(restored).ask is None)  # advice: all of it again

    @staticmethod
    def _undo(session: Session, step: Step) -> Session:
        """Undo a step: answers and the current item's values first, then the item it added, then
        which item was current (the order they were applied in, reversed)."""
        plain = {k: v for k, v in step.undo if not k.startswith("#")}
        restored = session.with_answers(step.flow, plain) if plain else session
        marks = dict(step.undo)
        if ADDED in marks and restored.items:
            restored = replace(restored, items=restored.items[:-1])
        if CURRENT in marks:
            previous = marks[CURRENT]
            restored = replace(restored, current=None if previous is None else int(previous))
        return restored

    # --- reminders ---------------------------------------------------------------------------------

    def _schedule(self, session: Session, flow: str, remind: tuple[str, str], out: _Out) -> Session:
        """Keep one reminder per flow and kind (a newer one replaces it) and at most MAX_REMINDERS."""
        kind, after = remind
        due = in_hours(due_at(out.now, after))
        reminder = Reminder(f"{flow[:1]}{kind}{out.now:x}", flow, kind, due)
        kept = [r for r in session.reminders if (r.flow, r.kind) != (flow, kind)]
        dropped = [r.id for r in session.reminders if r not in kept]
        while len(kept) >= MAX_REMINDERS:
            dropped.append(kept.pop(0).id)
        if dropped:
            out.effects.append(CancelReminders(tuple(dropped)))
        out.effects.append(ScheduleReminder(reminder.id, kind, due))
        label = self.library.flows[flow].reminders[kind].label
        title = self.library.flows[flow].title
        out.say(self.library.text("reminder_set", flow=title, label=label, when=shown_time(due)))
        return replace(session, reminders=(*kept, reminder))

    def _reminder_due(self, session: Session, reminder_id: str, out: _Out) -> Session:
        """A reminder fell due: continue the conversation where it is about — or drop it silently when its
        reason is gone (the payout arrived, the user restarted or erased)."""
        reminder = next((r for r in session.reminders if r.id == reminder_id), None)
        rest = replace(session, reminders=tuple(r for r in session.reminders if r.id != reminder_id))
        kind = None if reminder is None else self.library.flows.get(reminder.flow)
        spec = None if kind is None or reminder is None else kind.reminders.get(reminder.kind)
        if reminder is None or spec is None:
            out.outcome = "reminder_dropped"
            return rest
        facts = facts_for(self.library, rest, reminder.flow)
        if spec.while_ is not None and not spec.while_(facts):
            out.outcome = "reminder_dropped"
            return rest
        out.outcome = "reminder"
        out.say(self.library.text("reminder_intro", flow=self.library.flows[reminder.flow].title, label=spec.label))
        return self._go(replace(rest, flow=reminder.flow, filling=None), spec.due, out)

    # --- template fill-ins ---------------------------------------------------------------------

    def _fill(self, session: Session, tap: str | None, text: str, norm: str, out: _Out) -> Session:
        state = self._state(session)
        filled, step = self.fills.answer(session, state, tap, text, norm)
        if step is FillStep.TYPE_IT:
            out.outcome = "reask"
            out.say(self.library.text("fill_type_it"))
            return self._show(session, out)
        if step is FillStep.REASK:
            return self._reask(session, out)
        if step in (FillStep.PERSONAL, FillStep.NOT_NAME):
            out.outcome = "reask"
            out.say(self.library.text("fill_personal" if step is FillStep.PERSONAL else "fill_not_name"))
            return self._show(session, out)
        if step is FillStep.DONE:
            filled = self._name_item(filled, state)
        return self._show(filled, out, full=step is FillStep.DONE)

    def _name_item(self, session: Session, state: State) -> Session:
        """The current item takes the name typed for its template (its job title) for 「状況」."""
        item = session.current_item()
        if item is None or item.flow != state.flow or not state.template:
            return session
        for name in self.book.placeholders[state.template]:
            if self.library.templates.fields[name].item and session.fields.get(name):
                return session.with_item_values({"name": session.fields[name]})
        return session

    def _rename(self, session: Session, out: _Out) -> Session:
        """「署名を変える」 on a template: ask the remembered field (the user's name) again."""
        field = self._renamable(session, self._state(session))
        if field is None:
            return self._show(session, out)
        out.outcome = "command"
        return self._show(replace(session, filling=field), out)

    def _renamable(self, session: Session, state: State) -> str | None:
        if not state.template:
            return None
        remembered = [
            f for f in self.book.placeholders[state.template]
            if self.library.templates.fields[f].remember and session.fields.get(f)
        ]  # fmt: skip
        return remembered[0] if remembered else None

    # --- moving and showing --------------------------------------------------------------------

    def _go(self, session: Session, target: str, out: _Out) -> Session:
        """Enter `target`, passing through route states, and show where the user lands."""
        for _ in range(MAX_HOPS):
            if target == "@back":
                return self._back(session, out, announce=False)
            if target == "@next":
                if session.queue:
                    target = f"{session.queue[0]}:"
                    session = replace(session, queue=session.queue[1:])
                else:
                    target = self.after_all
            where = self.library.resolve(session.flow, target)
            state = self.library.state(where)
            if state is None:  # flows check makes this unreachable; recover rather than crash
                return self._go(self._new(session.updated), self.start, out)
            out.entered.append(where)
            session = replace(session, flow=state.flow, state=state.name, filling=None)
            if state.routes is None:
                wanted = self.book.fields_to_ask(state.template, session.fields) if state.template else []
                if wanted:
                    out.say(self.library.text("fill_intro"))
                    return self._show(replace(session, filling=wanted[0]), out)
                return self._show(session, out, full=True)
            cursor = Cursor(state.name, facts_for(self.library, session, state.flow))
            routed = fire(self.library.flows[state.flow].machine, cursor, ROUTE_TRIGGER)
            if routed is None:  # flows check requires a default branch; recover rather than crash
                return self._go(self._new(session.updated), self.start, out)
            target = self._target(state.flow, routed)
        raise RuntimeError(f"route loop at {target}")

    def _show(self, session: Session, out: _Out, full: bool = False) -> Session:
        """Show the current question; with `full`, first the state's text and template."""
        state = self._state(session)
        if session.filling:
            out.replies.append(self.fills.question(session, state))
            return session
        spoke = False
        if full:
            for text in state.says:
                out.say(self._fill_open(session, text))
                spoke = True
            flow = self.library.flows[state.flow]
            if flow.confirm and self.library.single_source(state):
                out.say(self.library.text("confirm", where=flow.confirm))
            if state.template:
                complete = all(session.fields.get(f) for f in self.book.placeholders[state.template])
                out.say(self.library.text("template_note" if complete else "template_note_placeholder"))
                out.replies.append(self.book.render(state.template, session.fields))
                out.templates.append(state.template)
                spoke = False
            if state.checklist:
                out.replies.append(build_checklist(self.library, session))
                spoke = False
        text = state.ask or self.library.text("next_prompt")
        if state.ask is None:
            last = out.replies[-1] if out.replies else None
            if spoke and isinstance(last, Text):
                out.replies.pop()  # the last bubble becomes the question, so buttons sit under it
                text = last.text
        options = tuple(
            Option(c.label, ChoiceInput(state.flow, state.name, c.id).encode()) for c in self._offered(session, state)
        )
        field = self._renamable(session, state)
        if field is not None:
            value = session.fields[field]
            shown = value if len(value) <= 8 else value[:7] + "…"
            rename = Option(self.library.text("rename_label", value=shown), _value(state, RENAME))
            options += (rename,)
        out.replies.append(Question(text, options))
        return session

    # --- helpers -------------------------------------------------------------------------------

    def _fill_open(self, session: Session, text: str) -> str:
        """`{open}` in a state's text: the services the user is leaving and has not finished (「ランサーズ」)."""
        if OPEN not in text:
            return text
        titles = [self.library.flows[name].title for name in open_flow_names(self.library, session)]
        return text.replace(OPEN, "・".join(titles) or self.library.flows[session.flow].title)

    def _new(self, now: int) -> Session:
        flow, _, state = self.start.partition(":")
        return Session(flow=flow, state=state, updated=now)

    def _repaired(self, session: Session) -> Session:
        """A stored session whose fill-in no longer exists (flows changed) goes back to the question."""
        state = self._current(session)
        if session.filling and (
            state is None or not state.template or session.filling not in self.book.placeholders[state.template]
        ):
            return replace(session, filling=None)
        return session

    def _current(self, session: Session) -> State | None:
        return self.library.state(f"{session.flow}:{session.state}")

    def _state(self, session: Session) -> State:
        state = self._current(session)
        if state is None:
            raise LookupError(f"session is at an unknown state {session.flow}:{session.state}")
        return state

    def _offered(self, session: Session, state: State) -> list[Choice]:
        if not any(c.when or c.each for c in state.choices):
            return list(state.choices)
        facts = facts_for(self.library, session, state.flow)
        offered: list[Choice] = []
        for choice in state.choices:
            if choice.when is not None and not choice.when(facts):
                continue
            if choice.each is None:
                offered.append(choice)
                continue
            flow = self.library.flows[state.flow]
            for index, item in session.items_of(state.flow, choice.each):
                if not item_status_open(flow, item):
                    continue
                label = choice.label.replace("{item}", item_title(flow, session, index, short=True))
                aliases = [item.values["name"]] if item.values.get("name") else []
                offered.append(
                    replace(
                        choice,
                        id=f"{choice.id}{EACH}{index}",
                        label=label,
                        index=index,
                        candidate=candidate(f"{choice.id}{EACH}{index}", label, aliases, None),
                    )
                )
        return offered

    @staticmethod
    def _target(flow: str, destination: str) -> str:
        return destination[len(STUB_PREFIX) :] if destination.startswith(STUB_PREFIX) else f"{flow}:{destination}"


def _value(state: State, choice: str) -> str:
    return ChoiceInput(state.flow, state.name, choice).encode()


KEEP_ON_RESET = ("decision", "reason", "withdrawn")


def _reset(session: Session, flow: str) -> Session:
    """Forget one flow's checks (answers but the decision, and its items) to walk them again."""
    answers = dict(session.answers)
    kept = {k: v for k, v in answers.get(flow, {}).items() if k in KEEP_ON_RESET}
    if kept:
        answers[flow] = kept
    else:
        answers.pop(flow, None)
    items = tuple(item for item in session.items if item.flow != flow)
    # item indexes in older steps no longer hold: 戻る starts again from here
    return replace(session, answers=answers, items=items, current=None, history=())
