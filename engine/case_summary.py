"""A case's title and summary fields, as its process declares them (BPMN extension properties of the
process element), so that the inbox and the case lists say what a case is about without any
process-specific code:

- ``caseTitle``: text with ``{field}`` placeholders filled from the case data, e.g.
  ``{venue}（{attendees} 人）``. Placeholders name data fields only: no attribute access, indexing or
  format specs (a title is never evaluated as code; ``str.format`` is not used).
- ``summaryFields``: a comma-separated list of data fields shown beside the title, labelled by the
  start form's labels where it has them (stored as display text: ``场地：报告厅；人数：12``).

The title and the summary values also make the case's ``search_text``, which the inbox searches by
part (a partial ID number, a name, a business key).
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

FIELD = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,99}")
PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
MAX_TITLE = 200
MAX_VALUE = 100
MAX_SUMMARY = 500
MAX_FIELDS = 8


@dataclass(frozen=True)
class CaseSummary:
    title: str | None = None  # the caseTitle template
    fields: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)  # field → its label on the start form

    @property
    def declared(self) -> bool:
        return bool(self.title or self.fields)

    def values(self, data: Mapping[str, Any], business_key: str) -> dict[str, str]:
        """The instance columns the case's data gives: ``title``, ``summary`` (``label：value`` pairs
        joined by ``；``, as the lists show it) and ``search_text``."""
        title = _fill(self.title, data)[:MAX_TITLE] if self.title else ""
        shown = [(self.labels.get(name, name), _text(data[name])) for name in self.fields
                 if data.get(name) not in (None, "", [])]
        summary = "；".join(f"{label}：{value}" for label, value in shown)[:MAX_SUMMARY]
        search = " ".join(part for part in (business_key, title, *(value for _, value in shown)) if part)
        return {"title": title, "summary": summary, "search_text": search}


def problems(title: str | None, fields: str | None) -> list[str]:
    """What is wrong with the two properties (deploy-time check), in Chinese."""
    found = []
    for name in PLACEHOLDER.findall(title or ""):
        if not FIELD.fullmatch(name):
            found.append(f"caseTitle 中的 {{{name}}} 不是数据字段名（只能写 {{字段名}}）")
    names = [n.strip() for n in (fields or "").split(",") if n.strip()]
    found += [f"summaryFields 中的 {name} 不是数据字段名" for name in names if not FIELD.fullmatch(name)]
    if len(names) > MAX_FIELDS:
        found.append(f"summaryFields 最多 {MAX_FIELDS} 个字段")
    return found


def parse(title: str | None, fields: str | None, labels: Mapping[str, str]) -> CaseSummary:
    return CaseSummary(title.strip() if title and title.strip() else None,
                       tuple(n.strip() for n in (fields or "").split(",") if n.strip())[:MAX_FIELDS], labels)


def _fill(template: str, data: Mapping[str, Any]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        return _text(data.get(name)) if FIELD.fullmatch(name) else match.group(0)

    return PLACEHOLDER.sub(value, template).strip()


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | tuple):
        return "、".join(_text(v) for v in value)[:MAX_VALUE]
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a form's number field gives 120.0 for "120"
    return str(value)[:MAX_VALUE]
