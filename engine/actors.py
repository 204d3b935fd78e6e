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
    # (post, organisation id): the posts held at organisations (services.platform.organisations) — a
    # step of a case at an organisation is for the holders of its lane's post there, not for a region
    posts: frozenset[tuple[str, int]] = field(default_factory=frozenset)

    def holds(self, role: str, region_code: str) -> bool:
        """Holds ``role`` for ``region_code`` or one of its parent regions (属地)."""
        return any(r == role and covers(g, region_code) for r, g in self.grants)

    def takes(self, lane: str, region_code: str, organisation_id: int | None) -> bool:
        """May work on a step of role ``lane``: of a case at an organisation by holding that post
        there, of any other case by holding the role for its region."""
        if organisation_id is not None:
            return (lane, organisation_id) in self.posts
        return self.holds(lane, region_code)

    def has_role(self, role: str) -> bool:
        return any(r == role for r, _ in self.grants) or any(p == role for p, _ in self.posts)

    @property
    def roles(self) -> set[str]:
        return {r for r, _ in self.grants} | {p for p, _ in self.posts}

    @property
    def organisations(self) -> frozenset[int]:
        return frozenset(organisation for _, organisation in self.posts)


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
