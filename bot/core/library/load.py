"""Load `flows/` and compile it into the immutable `Library` the engine runs.

Every problem is collected (see `checks`) instead of stopping at the first, so `taikai-bot flows check`
shows an author everything to fix in one run. The engine only ever sees a library that passed them all.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from bot.core.library.checks import (
    Collector,
    FlowsInvalid,
    Problem,
    canonical,
    check_reachability,
    check_route_cycles,
    check_targets,
    check_templates,
)
from bot.core.library.conditions import Condition, ConditionError, compile_conditions
from bot.core.library.machines import build_machine
from bot.core.library.model import (
    COMMON,
    ChecklistRule,
    Choice,
    Faq,
    Flow,
    ItemKind,
    Library,
    NumberRange,
    ReminderKind,
    Route,
    Slot,
    State,
)
from bot.core.library.spec import (
    ChoiceSpec,
    FactsSpec,
    FaqSpec,
    FlowSpec,
    LexiconSpec,
    NumberSpec,
    StateSpec,
    TemplatesSpec,
)
from bot.core.library.vocabulary import Vocabulary, candidate
from bot.core.library.yamlload import load_yaml

NEXT_CHOICE = "next"
M = TypeVar("M", bound=BaseModel)


# Long: the phases of loading, in order; each stops only after collecting every problem of its phase.


# Long on purpose: the loading order (parse every file, compile, check), collecting every problem.
def load_library(directory: Path) -> Library:
    """Read and validate every file in `directory`; raise FlowsInvalid listing all problems."""
    out = Collector()
    flows_spec: dict[str, tuple[str, FlowSpec]] = {}
    lexicon = _parse(directory / "lexicon.yaml", LexiconSpec, out)
    templates = _parse(directory / "templates.yaml", TemplatesSpec, out)
    facts = _parse(directory / "facts.yaml", FactsSpec, out)
    for path in sorted(directory.glob("*.yaml")):
        raw = _read(path, out)
        if isinstance(raw, dict) and "flow" in raw:
            spec = _validate(path.name, raw, FlowSpec, out)
            if spec is not None:
                if spec.flow in flows_spec:
                    out.add(path.name, None, f"flow '{spec.flow}' is also defined in {flows_spec[spec.flow][0]}")
                flows_spec[spec.flow] = (path.name, spec)
    if lexicon is None or templates is None or facts is None:
        raise FlowsInvalid(out.problems)
    if COMMON not in flows_spec:
        out.add("common.yaml", None, "the 'common' flow (menu, finish, erase confirmation) is missing")
        raise FlowsInvalid(out.problems)

    check_templates(templates, facts, out)
    flows = {name: _compile_flow(file, spec, lexicon, out) for name, (file, spec) in flows_spec.items()}
    check_targets(flows_spec, lexicon, templates, facts, out)
    if out.problems:
        raise FlowsInvalid(out.problems)
    library = Library(
        flows={name: flow for name, flow in flows.items() if flow is not None},
        templates=templates,
        lexicon=lexicon,
        facts=facts,
        vocabulary=Vocabulary.build(
            lexicon.yes, lexicon.no, {str(k): v for k, v in lexicon.commands.items()}, lexicon.unsure
        ),
        directory=directory,
    )
    check_reachability(library, out)
    check_route_cycles(library, out)
    if out.problems:
        raise FlowsInvalid(out.problems)
    return library


# --- reading -----------------------------------------------------------------------------------


def _read(path: Path, out: Collector) -> Any:
    try:
        return load_yaml(path)
    except FileNotFoundError:
        out.add(path.name, None, "file is missing")
    except Exception as exc:  # yaml.YAMLError and decoding errors: report, don't crash the check
        out.add(path.name, None, f"not valid YAML: {exc}")
    return None


def _parse(path: Path, model: type[M], out: Collector) -> M | None:
    raw = _read(path, out)
    return None if raw is None else _validate(path.name, raw, model, out)


def _validate(file: str, raw: Any, model: type[M], out: Collector) -> M | None:
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        for error in exc.errors():
            loc = [str(part) for part in error["loc"]]
            state = loc[1] if len(loc) > 1 and loc[0] == "states" else None
            where = ".".join(loc[2:] if state else loc)
            out.add(file, state, f"{where}: {error['msg']}" if where else error["msg"])
        return None


# --- compiling ---------------------------------------------------------------------------------


# Long: a field-by-field mapping of the validated spec to the immutable model.


# Long on purpose: the flow schema translated field by field into the model; the fields read together.
def _compile_flow(file: str, spec: FlowSpec, lexicon: LexiconSpec, out: Collector) -> Flow | None:
    try:
        conditions = compile_conditions(spec.conditions)
    except ConditionError as exc:
        out.add(file, None, str(exc))
        return None
    if spec.initial not in spec.states:
        out.add(file, None, f"initial state '{spec.initial}' is not a state")
    if spec.after_all is not None and spec.after_all not in spec.states:
        out.add(file, None, f"after_all state '{spec.after_all}' is not a state")
    checklist = tuple(
        ChecklistRule(
            item.key,
            item.label,
            _condition(item.when, conditions, file, None, out),
            frozenset(item.pending),
            frozenset(item.waiting),
            frozenset(item.done),
            frozenset(item.na),
            item.items,
            item.done_word,
        )
        for item in spec.checklist
    )
    kinds = {name: ItemKind(k.label, k.short, k.max, k.more) for name, k in spec.items.items()}
    reminder_kinds = {
        name: ReminderKind(r.label, _condition(r.while_, conditions, file, None, out), canonical(spec.flow, r.due))
        for name, r in spec.reminders.items()
    }
    states = {
        name: _compile_state(spec.flow, file, name, state, conditions, lexicon, out)
        for name, state in spec.states.items()
    }
    flow = Flow(
        name=spec.flow,
        title=spec.title,
        file=file,
        checked=spec.checked,
        confirm=spec.confirm,
        initial=spec.initial,
        after_all=spec.after_all,
        states=states,
        checklist=checklist,
        machine=None,
        items=kinds,
        faq=_faqs(spec.faq),
        reminders=reminder_kinds,
        hears=tuple(Slot(f"{spec.flow}:{h.ask}", h.per, dict(h.words)) for h in spec.hears),
    )
    return flow.with_machine(build_machine(flow))


# Long: a field-by-field mapping of a state's choices and routes to the model (rules live in spec.py).


# Long on purpose: the state schema translated field by field into the model; the fields read together.
def _compile_state(
    flow: str,
    file: str,
    name: str,
    spec: StateSpec,
    conditions: Mapping[str, Condition],
    lexicon: LexiconSpec,
    out: Collector,
) -> State:
    choices = list(spec.choices)  # their shape is checked by the schema (spec.py)
    if spec.next is not None:
        choices = [_next_choice(spec.next, lexicon.texts.next_label, lexicon.next_words)]
    compiled = [
        Choice(
            id=choice.id,
            label=choice.label,
            means=choice.means,
            set=tuple(choice.set.items()),
            when_name=choice.when,
            when=_condition(choice.when, conditions, file, name, out),
            target=canonical(flow, choice.next) if choice.next else None,
            queue=choice.queue,
            action=choice.action,
            candidate=candidate(choice.id, choice.label, choice.aliases, choice.means),
            fallback=choice.fallback,
            exact=choice.exact,
            add=choice.add,
            item=tuple(choice.item.items()),
            each=choice.each,
            reset=choice.reset,
            examples=choice.examples,
            aliases=choice.aliases,
            number=_number(choice.number),
            remind=(choice.remind.kind, choice.remind.after) if choice.remind else None,
        )
        for choice in choices
    ]
    routes: tuple[Route, ...] | None = None
    if spec.route is not None:
        routes = tuple(
            Route(branch.when, _condition(branch.when, conditions, file, name, out), canonical(flow, branch.next))
            for branch in spec.route
        )
    says = () if spec.say is None else (spec.say,) if isinstance(spec.say, str) else spec.say
    return State(
        flow=flow,
        name=name,
        title=spec.title,
        facts=spec.facts,
        says=tuple(s.strip() for s in says),
        ask=spec.ask.strip() if spec.ask else None,
        help=spec.help,
        choices=tuple(compiled),
        routes=routes,
        template=spec.template,
        checklist=spec.checklist,
        faq=_faqs(spec.faq),
        unsure=spec.unsure.strip() if spec.unsure else None,
    )


def _number(spec: NumberSpec | None) -> NumberRange | None:
    return None if spec is None else NumberRange(spec.unit, spec.min, spec.max, spec.below)


def _faqs(specs: tuple[FaqSpec, ...]) -> tuple[Faq, ...]:
    return tuple(Faq(f.ask, f.say.strip(), f.facts) for f in specs)


def _next_choice(target: str, label: str, words: tuple[str, ...]) -> ChoiceSpec:
    """The lone 「次へ」 of a screen without a question: its consent words (lexicon `next_words`) and a bare
    yes move on; anything else is read for a question or re-shows the screen."""
    return ChoiceSpec(id=NEXT_CHOICE, label=label, aliases=words, means="yes", next=target)


def _condition(
    name: str | None, conditions: Mapping[str, Condition], file: str, state: str | None, out: Collector
) -> Condition | None:
    if name is None:
        return None
    if name not in conditions:
        out.add(file, state, f"unknown condition '{name}'")
        return None
    return conditions[name]


__all__ = ["FlowsInvalid", "Problem", "load_library"]
