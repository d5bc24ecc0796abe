"""Client-message templates: which fill-ins to ask, and rendering with 〇〇 for skipped ones."""

from __future__ import annotations

import re
from collections.abc import Mapping

from bot.core.messages import Template
from bot.core.spec import TemplatesSpec

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


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

    def render(self, template: str, values: Mapping[str, str]) -> Template:
        spec = self.spec.templates[template]

        def fill(match: re.Match[str]) -> str:
            return values.get(match.group(1)) or self.spec.placeholder

        return Template(template, spec.title, PLACEHOLDER.sub(fill, spec.body).strip())
