"""Numbers (编号 / 文号): business keys of cases and numbers of documents, drawn from patterns such as
``津人社许字〔{year}〕第{seq:4}号`` or ``SD-{region}-{date}-{seq:4}``.

Fields: ``{year}`` (2026), ``{date}`` (20261202), ``{month}`` (202612), ``{region}`` (the case's region
code) — all in China Standard Time — and ``{seq:N}``, the sequence zero-padded to N digits (exactly
once). Each distinct text the other fields give (the *scope*, e.g. ``津人社许字〔2026〕第{seq}号``) has its
own counter, so a pattern with ``{year}`` starts again at 1 each year and one with ``{date}`` each day.

Gap-free and unique: the counter row is incremented by one statement (``INSERT … ON CONFLICT DO
UPDATE … RETURNING``) in the caller's transaction, which holds the row's lock until it commits —
concurrent draws queue, and a draw whose transaction rolls back gives its number back. A number
already taken by something the counter does not know of (numbers imported from an earlier system)
is skipped: ``taken`` tells. Patterns are data: a process names its business-key pattern in BPMN
(``businessKeyPattern``, checked at deploy), a module names the patterns of its own numbers.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import Integer, String
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from engine.case_clock import CST  # numbers carry China Standard Time dates
from engine.db import Base, utcnow
from engine.errors import Conflict, InvalidData
from engine.operators import OperatorContext, OperatorRegistry

FIELD = re.compile(r"\{(year|month|date|region|seq:(\d{1,2}))\}")
ANY_FIELD = re.compile(r"\{[^{}]*\}")
MAX_SKIPS = 1000  # numbers taken by imported history skipped in one draw before giving up


class NumberSequence(Base):
    """The last number drawn in one scope (a pattern with its year, date and region filled in)."""

    __tablename__ = "number_sequence"

    scope: Mapped[str] = mapped_column(String(200), primary_key=True)
    last_value: Mapped[int] = mapped_column(Integer)


def problems(pattern: str) -> list[str]:
    """What is wrong with a pattern (deploy-time check), in Chinese."""
    found = []
    unknown = [f for f in ANY_FIELD.findall(pattern) if not FIELD.fullmatch(f)]
    if unknown:
        found.append(f"编号规则中的 {'、'.join(unknown)} 不是可用字段"
                     "（{year} {month} {date} {region} {seq:N}）")
    sequences = [m for m in FIELD.finditer(pattern) if m.group(2)]
    if len(sequences) != 1:
        found.append("编号规则须含且只含一个序号字段 {seq:N}（N 为位数）")
    elif not 1 <= int(sequences[0].group(2)) <= 12:
        found.append("序号位数 N 须在 1 到 12 之间")
    if len(pattern) > 80:
        found.append("编号规则不能超过 80 个字符")
    return found


def draw(session: Session, pattern: str, *, at: datetime, region: str = "",
         taken: Callable[[str], bool] | None = None) -> str:
    """The next number of ``pattern`` for a case of ``region`` at ``at`` (naive UTC), counted in the
    caller's transaction; ``taken(number)`` skips numbers already in use elsewhere."""
    found = problems(pattern)
    if found:
        raise InvalidData("；".join(found))
    local = at + CST
    values = {"year": f"{local:%Y}", "month": f"{local:%Y%m}", "date": f"{local:%Y%m%d}", "region": region}
    width = 0

    def fill(match: re.Match[str]) -> str:
        nonlocal width
        if match.group(2):
            width = int(match.group(2))
            return "{seq}"
        return values[match.group(1)]

    scope = FIELD.sub(fill, pattern)
    for _ in range(MAX_SKIPS):
        number = scope.replace("{seq}", f"{_next(session, scope):0{width}d}")
        if taken is None or not taken(number):
            return number
    raise Conflict("编号 %(number)s 连续 %(skips)s 个已被占用，请检查编号规则" % dict(number=scope, skips=MAX_SKIPS))


def _next(session: Session, scope: str) -> int:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    upsert = insert(NumberSequence).values(scope=scope, last_value=1).on_conflict_do_update(
        index_elements=[NumberSequence.scope], set_={"last_value": NumberSequence.last_value + 1})
    return int(session.execute(upsert.returning(NumberSequence.last_value)).scalar_one())


def register_operator(registry: OperatorRegistry) -> None:
    """``numbering.draw`` for service tasks: a step that grants draws its number (``pattern`` is a
    parameter of the task), in the step's transaction; the result is the number."""

    @registry.register("numbering.draw", example="津人社许字〔2026〕第0001号")
    def draw_operator(ctx: OperatorContext, pattern: str) -> str:
        return draw(ctx.session, pattern, at=utcnow(), region=ctx.region_code)
