"""Who is acting: a username, the roles held per region, and (for applicants) the party."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import ColumnElement, and_, false, or_

from engine.regions import covers, region_prefix


@dataclass(frozen=True)
class Actor:
    username: str
    grants: frozenset[tuple[str, str]] = field(default_factory=frozenset)  # (role, region code)
    party: str | None = None  # enterprise code etc. for applicant users

    def holds(self, role: str, region_code: str) -> bool:
        """Holds ``role`` for ``region_code`` or one of its parent regions (属地)."""
        return any(r == role and covers(g, region_code) for r, g in self.grants)

    def has_role(self, role: str) -> bool:
        return any(r == role for r, _ in self.grants)

    @property
    def roles(self) -> set[str]:
        return {r for r, _ in self.grants}


SYSTEM = Actor("system")


def region_condition(column, region_codes) -> ColumnElement[bool]:
    """SQL: ``column`` lies in one of ``region_codes`` or below, as index-friendly ranges."""
    clauses = []
    for code in sorted(set(region_codes)):
        prefix = region_prefix(code)
        if not prefix:
            return column.is_not(None)
        upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        clauses.append(and_(column >= prefix, column < upper))
    return or_(*clauses) if clauses else false()
