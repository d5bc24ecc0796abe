"""Client-message templates: which fill-ins to ask, and rendering them: the 宛名 as X-MSG-STRUCTURE writes it,
〇〇 for a skipped field, no line for a field left out, one message per person where the template says `each`."""

from __future__ import annotations

import re
from collections.abc import Mapping

from bot.core.japanese.addressee import addressee_line, split_line
from bot.core.library.spec import TemplatesSpec
from bot.core.messages import Template

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
LEFT_OUT = "-"  # a field's stored value when the user left it out (「署名なし」); never a typed name
# what a line that only carries a left-out name says besides it: 「{user_name}です。」「{user_name}と申します。」
_NAME_ONLY = re.compile(r"(?:です|と申します|でございます)?[。.]?")


def addressee(value: str) -> str:
    """「山田」→「山田様」; 「株式会社ABC」「ABC社」→「… ご担当者様」; a finished 宛名 as it is."""
    return addressee_line(value)


class TemplateBook:
    def __init__(self, spec: TemplatesSpec) -> None:
        self.spec = spec
        # fields each template uses, in the order `fields:` declares them (the order they are asked)
        self.placeholders = {
            name: [f for f in spec.fields if f in set(PLACEHOLDER.findall(t.body))]
            for name, t in spec.templates.items()
        }

    def fields_to_ask(self, template: str, known: Mapping[str, str]) -> list[str]:
        """Fields the template uses, minus remembered ones the user already answered (or skipped)."""
        return [
            name
            for name in self.placeholders.get(template, [])
            if not (self.spec.fields[name].remember and name in known)
        ]

    def addressee_field(self, template: str) -> str | None:
        return next((f for f in self.placeholders.get(template, []) if self.spec.fields[f].honorific), None)

    def render(self, template: str, values: Mapping[str, str]) -> Template:
        spec = self.spec.templates[template]
        return Template(template, spec.title, self._body(template, values))

    def render_all(self, template: str, values: Mapping[str, str], title_to: str = "{to}：{title}") -> list[Template]:
        """The message, or one per person for a template sent to each (「高橋様、伊藤様」 → 2 messages, each
        titled with `title_to`)."""
        spec = self.spec.templates[template]
        field = self.addressee_field(template)
        lines = split_line(values[field]) if spec.each and field and values.get(field) else ()
        if field is None or len(lines) < 2:
            return [self.render(template, values)]
        titled = [(title_to.format(to=line, title=spec.title), line) for line in lines]
        return [Template(template, title, self._body(template, {**values, field: line})) for title, line in titled]

    def _body(self, template: str, values: Mapping[str, str]) -> str:
        body = self.spec.templates[template].body
        left_out = [name for name in self.placeholders[template] if values.get(name) == LEFT_OUT]
        if left_out:
            body = _without(body, left_out)

        def fill(match: re.Match[str]) -> str:
            name = match.group(1)
            value = values.get(name) or self.spec.placeholder
            return addressee(value) if self.spec.fields[name].honorific else value

        return PLACEHOLDER.sub(fill, body).strip()


def _without(body: str, names: list[str]) -> str:
    """The body without the lines that only carry a left-out field (「{user_name}です。」, the signature)."""
    kept = []
    for line in body.splitlines():
        rest = line
        for name in names:
            rest = rest.replace(f"{{{name}}}", "")
        if rest != line and _NAME_ONLY.fullmatch(rest.strip()):
            continue
        kept.append(rest)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(kept))
