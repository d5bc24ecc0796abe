"""Client-message templates: which fill-ins to ask, and rendering with 〇〇 for skipped ones."""

from __future__ import annotations

import re
from collections.abc import Mapping

from bot.core.library.spec import TemplatesSpec
from bot.core.messages import Template

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
# A company is addressed 「〇〇株式会社 ご担当者様」, never 「〇〇株式会社様」 (X-MSG-STRUCTURE).
COMPANY = re.compile(
    r"(株式会社|有限会社|合同会社|合資会社|合名会社|一般社団法人|一般財団法人|NPO法人|社団法人|財団法人|学校法人|医療法人|"
    r"\(株\)|（株）|㈱|\(有\)|（有）|㈲|Inc\.?|LLC|Ltd\.?|Co\.,|Corp\.?|事務所|編集部|事業部|制作部|運営事務局|商店|工房)",
    re.I,
)


def addressee(value: str) -> str:
    """「山田」→「山田様」; 「株式会社ABC」→「株式会社ABC ご担当者様」."""
    return f"{value} ご担当者様" if COMPANY.search(value) else f"{value}様"


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
            name = match.group(1)
            value = values.get(name) or self.spec.placeholder
            return addressee(value) if self.spec.fields[name].honorific else value

        return Template(template, spec.title, PLACEHOLDER.sub(fill, spec.body).strip())
