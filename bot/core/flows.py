"""Load `flows/`, validate it as a whole, and compile it into the immutable `Library` the engine runs.

Validation collects every problem (file, state, message) instead of stopping at the first, so
`taikai-bot flows check` shows an author everything to fix in one run. The engine only ever sees a
library that passed every check.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from bot.core.conditions import Condition, ConditionError, compile_conditions
from bot.core.machines import build_machine
from bot.core.model import ChecklistRule, Choice, Flow, Library, Route, State
from bot.core.spec import ChoiceSpec, FactsSpec, FlowSpec, LexiconSpec, StateSpec, TemplatesSpec
from bot.core.understand import Vocabulary, candidate, normalize
from bot.core.yamlload import load_yaml

COMMON = "common"
MAX_LABEL = 20  # LINE quick-reply labels; Slack allows more, so the tightest limit rules
NEXT_CHOICE = "next"
SPECIAL_TARGETS = ("@next", "@back")
M = TypeVar("M", bound=BaseModel)
# Fixed lines the engine and the channels say; lexicon.yaml must define every one.
REQUIRED_TEXTS = (
    "reask", "stale_choice", "back_none", "back_done", "restarted", "resume", "erased", "secret", "help",
    "status_title", "status_empty", "status_pending_count", "status_clear", "next_label", "next_prompt",
    "confirm", "skip_label", "skip_words", "fill_type_it", "keep_label", "fill_intro", "template_note",
    "template_note_placeholder",
    "too_long", "unsupported", "busy", "group_only_dm", "rate_limited", "slack_not_yours",
)  # fmt: skip
PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@dataclass(frozen=True, slots=True)
class Problem:
    file: str
    state: str | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: state '{self.state}'" if self.state else self.file
        return f"{where}: {self.message}"


class FlowsInvalid(Exception):
    """The flow files have problems; `problems` lists every one of them."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(map(str, problems)))


@dataclass
class _Collector:
    problems: list[Problem] = field(default_factory=list)

    def add(self, file: str, state: str | None, message: str) -> None:
        self.problems.append(Problem(file, state, message))


def load_library(directory: Path) -> Library:
    """Read and validate every file in `directory`; raise FlowsInvalid listing all problems."""
    out = _Collector()
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

    for key in REQUIRED_TEXTS:
        if key not in lexicon.texts:
            out.add("lexicon.yaml", None, f"texts: '{key}' is missing")
    _check_templates(templates, facts, out)
    flows = {name: _compile_flow(file, spec, lexicon, out) for name, (file, spec) in flows_spec.items()}
    _check_targets(flows_spec, lexicon, templates, facts, out)
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
    _check_reachability(library, flows_spec, out)
    if out.problems:
        raise FlowsInvalid(out.problems)
    return library


# --- reading -----------------------------------------------------------------------------------


def _read(path: Path, out: _Collector) -> Any:
    try:
        return load_yaml(path)
    except FileNotFoundError:
        out.add(path.name, None, "file is missing")
    except Exception as exc:  # yaml.YAMLError and decoding errors: report, don't crash the check
        out.add(path.name, None, f"not valid YAML: {exc}")
    return None


def _parse(path: Path, model: type[M], out: _Collector) -> M | None:
    raw = _read(path, out)
    return None if raw is None else _validate(path.name, raw, model, out)


def _validate(file: str, raw: Any, model: type[M], out: _Collector) -> M | None:
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


def _compile_flow(file: str, spec: FlowSpec, lexicon: LexiconSpec, out: _Collector) -> Flow | None:
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
            frozenset(item.done),
        )
        for item in spec.checklist
    )
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
    )
    return flow.with_machine(build_machine(flow))


def _compile_state(
    flow: str,
    file: str,
    name: str,
    spec: StateSpec,
    conditions: Mapping[str, Condition],
    lexicon: LexiconSpec,
    out: _Collector,
) -> State:
    if name.startswith(("@", "_")) or ":" in name:
        out.add(file, name, "state names may not start with '@' or '_' nor contain ':'")
    choices = list(spec.choices)
    if spec.route is not None and (choices or spec.next or spec.ask or spec.template or spec.say):
        out.add(file, name, "a route state only has `route` (and title, facts): no question, text or template")
    if spec.next is not None:
        if choices:
            out.add(file, name, "use either `next` or `choices`, not both")
        choices = [_next_choice(spec.next, lexicon.texts.get("next_label", "次へ"))]
    if spec.route is None and not choices:
        out.add(file, name, "no way out: the state has no choices, no `next` and no `route`")
    if sum(c.fallback for c in choices) > 1:
        out.add(file, name, "at most one choice may be the `fallback` for unmatched text")
    if choices and all(c.when for c in choices):
        out.add(file, name, "every choice has `when`: give at least one unconditional choice so no one is stuck")
    if choices and spec.next is None and not spec.ask:
        out.add(file, name, "a question needs `ask`")
    seen: set[str] = set()
    compiled: list[Choice] = []
    for choice in choices:
        if choice.id in seen:
            out.add(file, name, f"choice id '{choice.id}' is used twice")
        seen.add(choice.id)
        if len(choice.label) > MAX_LABEL:
            out.add(file, name, f"label '{choice.label}' is longer than {MAX_LABEL} characters")
        for alias in choice.aliases:
            if normalize(alias).isdigit():
                out.add(file, name, f"alias '{alias}' of '{choice.id}' would be read as a choice number")
        if choice.next is None and choice.action is None:
            out.add(file, name, f"choice '{choice.id}' has neither `next` nor `action`")
        compiled.append(
            Choice(
                id=choice.id,
                label=choice.label,
                means=choice.means,
                set=tuple(choice.set.items()),
                when_name=choice.when,
                when=_condition(choice.when, conditions, file, name, out),
                target=_canonical(flow, choice.next) if choice.next else None,
                queue=choice.queue,
                action=choice.action,
                candidate=candidate(choice.id, choice.label, choice.aliases, choice.means),
                fallback=choice.fallback,
            )
        )
    routes: tuple[Route, ...] | None = None
    if spec.route is not None:
        if not spec.route or spec.route[-1].when is not None:
            out.add(file, name, "a route must end with a branch without `when` (the default)")
        routes = tuple(
            Route(branch.when, _condition(branch.when, conditions, file, name, out), _canonical(flow, branch.next))
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
    )


def _next_choice(target: str, label: str) -> ChoiceSpec:
    return ChoiceSpec(id=NEXT_CHOICE, label=label, aliases=("つぎ", "次", "ok", "進む"), next=target)


def _condition(
    name: str | None, conditions: Mapping[str, Condition], file: str, state: str | None, out: _Collector
) -> Condition | None:
    if name is None:
        return None
    if name not in conditions:
        out.add(file, state, f"unknown condition '{name}'")
        return None
    return conditions[name]


def _canonical(flow: str, target: str) -> str:
    """'state' → 'flow:state'; 'other:' stays (resolved to the initial state later); '@next' stays."""
    if target in SPECIAL_TARGETS or ":" in target:
        return target
    return f"{flow}:{target}"


# --- whole-library checks ------------------------------------------------------------------------


def _check_templates(templates: TemplatesSpec, facts: FactsSpec, out: _Collector) -> None:
    for name, template in templates.templates.items():
        for placeholder in PLACEHOLDER.findall(template.body):
            if placeholder not in templates.fields:
                out.add("templates.yaml", None, f"template '{name}': unknown field {{{placeholder}}}")
        for fact in template.facts:
            if fact not in facts.facts:
                out.add("templates.yaml", None, f"template '{name}': fact '{fact}' is not in facts.yaml")


def _check_targets(
    flows: Mapping[str, tuple[str, FlowSpec]],
    lexicon: LexiconSpec,
    templates: TemplatesSpec,
    facts: FactsSpec,
    out: _Collector,
) -> None:
    def target_problem(flow: str, target: str) -> str | None:
        if target in SPECIAL_TARGETS:
            return None
        name, _, state = _canonical(flow, target).partition(":")
        if name not in flows:
            return f"target '{target}': there is no flow '{name}'"
        if state and state not in flows[name][1].states:
            return f"target '{target}': flow '{name}' has no state '{state}'"
        return None

    for flow, (file, spec) in flows.items():
        for name, state in spec.states.items():
            targets = [c.next for c in state.choices if c.next] + [b.next for b in state.route or ()]
            targets += [state.next] if state.next else []
            for target in targets:
                if problem := target_problem(flow, target):
                    out.add(file, name, problem)
            for choice in state.choices:
                for queued in choice.queue or ():
                    if queued not in flows:
                        out.add(file, name, f"choice '{choice.id}' queues unknown flow '{queued}'")
            if state.template and state.template not in templates.templates:
                out.add(file, name, f"template '{state.template}' is not in templates.yaml")
            for fact in state.facts:
                if fact not in facts.facts:
                    out.add(file, name, f"fact '{fact}' is not in facts.yaml")
    if problem := target_problem(COMMON, lexicon.erase_target):
        out.add("lexicon.yaml", None, f"erase_target: {problem}")
    if lexicon.restart_target and (problem := target_problem(COMMON, lexicon.restart_target)):
        out.add("lexicon.yaml", None, f"restart_target: {problem}")
    if flows[COMMON][1].after_all is None:
        out.add(flows[COMMON][0], None, "the common flow needs `after_all` (where @next goes when the queue is empty)")


def _check_reachability(library: Library, flows: Mapping[str, tuple[str, FlowSpec]], out: _Collector) -> None:
    queued = {
        q for flow in library.flows.values() for s in flow.states.values() for c in s.choices for q in c.queue or ()
    }
    common = library.flows[COMMON]
    roots = [f"{COMMON}:{common.initial}", library.resolve(COMMON, library.lexicon.erase_target)]
    if library.lexicon.restart_target:
        roots.append(library.resolve(COMMON, library.lexicon.restart_target))
    seen: set[str] = set()
    todo = list(roots)
    while todo:
        where = todo.pop()
        if where in seen:
            continue
        seen.add(where)
        flow_name, _, state_name = where.partition(":")
        state = library.flows[flow_name].states[state_name]
        for target in state.targets():
            if target == "@next":
                todo.extend(f"{q}:{library.flows[q].initial}" for q in queued)
                todo.append(f"{COMMON}:{common.after_all}")
            elif target != "@back":
                todo.append(library.resolve(flow_name, target))
    referenced: set[str] = set()
    for flow_name, flow in library.flows.items():
        for name, state in flow.states.items():
            if f"{flow_name}:{name}" not in seen:
                out.add(flow.file, name, "unreachable: no path leads here from the common menu")
                continue
            referenced.update(state.facts)
            if state.template:
                referenced.update(library.templates.templates[state.template].facts)
    for fact in _sorted(set(library.facts.facts) - referenced):
        out.add("facts.yaml", None, f"fact '{fact}' is not referenced by any reachable state")
    _check_route_cycles(library, out)


def _check_route_cycles(library: Library, out: _Collector) -> None:
    """Route states are passed through without input: a cycle of them would never stop."""
    for flow in library.flows.values():
        for name, state in flow.states.items():
            path = [f"{flow.name}:{name}"]
            current = state
            while current.routes is not None:
                nxt = library.resolve(current.flow, current.routes[-1].target) if len(current.routes) == 1 else None
                if nxt is None or nxt.startswith("@"):
                    break
                if nxt in path:
                    out.add(flow.file, name, f"route loop: {' → '.join((*path, nxt))}")
                    break
                path.append(nxt)
                f, _, s = nxt.partition(":")
                current = library.flows[f].states[s]


def _sorted(items: Iterable[str]) -> list[str]:
    return sorted(items)
