"""Whole-library checks of `flows/`: each adds `Problem`s (file, state, message) to a `Collector`.

Per-state checks happen while compiling (`flows._compile_state`); these need every flow at once:
targets that exist, templates and facts that exist, states reachable from the menu, every fact taught,
no loop of route states (they are passed without input, so a loop would never stop).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.core.library.model import COMMON, Library
from bot.core.library.spec import FactsSpec, FlowSpec, LexiconSpec, TemplatesSpec
from bot.core.library.templates import PLACEHOLDER

SPECIAL_TARGETS = ("@next", "@back")


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
class Collector:
    problems: list[Problem] = field(default_factory=list)

    def add(self, file: str, state: str | None, message: str) -> None:
        self.problems.append(Problem(file, state, message))


def canonical(flow: str, target: str) -> str:
    """'state' → 'flow:state'; 'other:' stays (resolved to the initial state later); '@next' stays."""
    if target in SPECIAL_TARGETS or ":" in target:
        return target
    return f"{flow}:{target}"


def check_templates(templates: TemplatesSpec, facts: FactsSpec, out: Collector) -> None:
    for name, template in templates.templates.items():
        for placeholder in PLACEHOLDER.findall(template.body):
            if placeholder not in templates.fields:
                out.add("templates.yaml", None, f"template '{name}': unknown field {{{placeholder}}}")
        for fact in template.facts:
            if fact not in facts.facts:
                out.add("templates.yaml", None, f"template '{name}': fact '{fact}' is not in facts.yaml")


# Long: one pass over every flow's targets, templates, facts and FAQ facts, so each file is read once.


# Long on purpose: every cross-reference of the flows in one place, so `flows check` lists all problems.
def check_targets(
    flows: Mapping[str, tuple[str, FlowSpec]],
    lexicon: LexiconSpec,
    templates: TemplatesSpec,
    facts: FactsSpec,
    out: Collector,
) -> None:
    def target_problem(flow: str, target: str) -> str | None:
        if target in SPECIAL_TARGETS:
            return None
        name, _, state = canonical(flow, target).partition(":")
        if name not in flows:
            return f"target '{target}': there is no flow '{name}'"
        if state and state not in flows[name][1].states:
            return f"target '{target}': flow '{name}' has no state '{state}'"
        return None

    for flow, (file, spec) in flows.items():
        for faq in spec.faq + tuple(f for s in spec.states.values() for f in s.faq):
            for fact in faq.facts:
                if fact not in facts.facts:
                    out.add(file, None, f"faq '{faq.ask[0]}': fact '{fact}' is not in facts.yaml")
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


def check_reachability(library: Library, out: Collector) -> None:
    queued = {
        q for flow in library.flows.values() for s in flow.states.values() for c in s.choices for q in c.queue or ()
    }
    common = library.flows[COMMON]
    roots = [f"{COMMON}:{common.initial}", library.resolve(COMMON, library.lexicon.erase_target)]
    if library.lexicon.restart_target:
        roots.append(library.resolve(COMMON, library.lexicon.restart_target))
    roots += [library.resolve(f.name, r.due) for f in library.flows.values() for r in f.reminders.values()]
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
    for fact in sorted(set(library.facts.facts) - referenced):
        out.add("facts.yaml", None, f"fact '{fact}' is not referenced by any reachable state")


def check_route_cycles(library: Library, out: Collector) -> None:
    """Route states are passed through without input: any cycle made only of them would never stop."""
    routes = {
        f"{flow.name}:{name}": state for flow in library.flows.values() for name, state in flow.states.items()
        if state.routes is not None
    }  # fmt: skip
    edges = {
        where: [t for r in state.routes or () if not r.target.startswith("@")
                if (t := library.resolve(state.flow, r.target)) in routes]
        for where, state in routes.items()
    }  # fmt: skip
    done: set[str] = set()

    def visit(where: str, path: list[str]) -> None:
        if where in path:
            loop = [*path[path.index(where) :], where]
            flow, _, name = loop[0].partition(":")
            out.add(library.flows[flow].file, name, f"route loop: {' → '.join(loop)}")
            return
        if where in done:
            return
        for nxt in edges[where]:
            visit(nxt, [*path, where])
        done.add(where)

    for where in sorted(routes):
        visit(where, [])
