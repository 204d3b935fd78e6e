"""判重 (004 §3.1 L865, §4.1 L913–921; requirements §B4): earlier 信访件 that may concern the same
person or matter, shown with their state so that the registrar links one — 相同信访事项 (the same
matter: 初次 becomes false) or 相同信访人 (the same person, a new matter) — or none.

Candidates are earlier items anywhere in the same province whose ID number is equal, whose phone is
equal, or whose normalised name is equal and whose address is alike (PostgreSQL: trigram similarity
≥ 0.6 by pg_trgm; on SQLite, or where pg_trgm could not be installed: the same first eight
characters). Newest first, at most
:data:`LIMIT`. The province, not the registrar's region, because petitioners go to several levels:
a deliberate, read-only exception to region scoping (README, security model) — a registrar sees
these few columns of the matches, never a search over the province's items.

Each branch is its own indexed query — the ID number, the phone, the name newest first by the index
(name_key, id), which reads only that name's items (a frequent name such as 王伟 whose addresses match
none would otherwise walk the whole table backwards by id) — each cut to :data:`LIMIT` newest; their
union is cut again. bench/petition_duplicates.py: 1,000,000 items, p95 34 ms on PostgreSQL.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, literal, select, text, union_all
from sqlalchemy.orm import Session

from services.petitions.labels import STATUSES
from services.petitions.models import Petition
from services.platform.organisations import Organisation

LIMIT = 50
SIMILARITY = 0.6
PREFIX = 8  # characters of the address compared where there is no trigram similarity


@dataclass(frozen=True)
class Candidate:
    petition_id: int
    number: str
    name: str
    address: str
    title: str
    registered_at: datetime | None
    status: str
    status_label: str
    responsible: str
    matched_by: str  # 证件号码 / 手机号码 / 姓名和地址


def normalise_name(name: str) -> str:
    """姓名 as compared: full-width forms folded (NFKC), spaces and middle dots removed, lower case."""
    folded = unicodedata.normalize("NFKC", name or "")
    return "".join(ch for ch in folded if not ch.isspace() and ch not in "·•.").lower()[:50]


_TRIGRAMS: dict[str, str | None] = {}  # database URL → the schema of pg_trgm, None without it


def _trigram_schema(session: Session) -> str | None:
    """Where pg_trgm's similarity() lives (by its schema: a search_path may not include it), None on
    SQLite or when the extension could not be installed (migration 0006) — then the prefix match."""
    bind = session.get_bind()
    if bind.dialect.name != "postgresql":
        return None
    key = str(bind.engine.url)
    if key not in _TRIGRAMS:
        _TRIGRAMS[key] = session.scalar(text(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace "
            "WHERE e.extname = 'pg_trgm'"))
    return _TRIGRAMS[key]


def _province(region_code: str) -> tuple[str, str]:
    prefix = region_code[:2]
    return prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)


MATCHES = ("证件号码", "手机号码", "姓名和地址")  # what a candidate matched by, strongest first


def _branch(condition, rank: int, low: str, high: str, exclude: int | None) -> Select:
    query = select(Petition.id.label("id"), literal(rank).label("rank")).where(
        condition, Petition.place_region >= low, Petition.place_region < high, Petition.status != "withdrawn")
    if exclude is not None:
        query = query.where(Petition.id != exclude)
    return query.order_by(Petition.id.desc()).limit(LIMIT)


def find(session: Session, *, name: str, id_number: str, phone: str, address: str, region_code: str,
         exclude: int | None = None) -> list[Candidate]:
    """The candidates of one registration (see the module docstring)."""
    low, high = _province(region_code)
    branches = []
    if id_number.strip():
        branches.append(_branch(Petition.id_number == id_number.strip().upper(), 0, low, high, exclude))
    if phone.strip():
        branches.append(_branch(Petition.phone == phone.strip(), 1, low, high, exclude))
    key = normalise_name(name)
    if key and address.strip():
        trigrams = _trigram_schema(session)
        if trigrams is not None:
            alike = getattr(func, trigrams).similarity(Petition.address, address.strip()) >= SIMILARITY
        else:
            alike = func.substr(Petition.address, 1, PREFIX) == address.strip()[:PREFIX]
        branches.append(_branch((Petition.name_key == key) & alike, 2, low, high, exclude))
    if not branches:
        return []
    found = union_all(*(b.subquery().select() for b in branches)).subquery()
    matched = dict(session.execute(select(found.c.id, func.min(found.c.rank)).group_by(found.c.id)
                                   .order_by(found.c.id.desc()).limit(LIMIT)).all())
    if not matched:
        return []
    rows = session.execute(select(Petition, Organisation.name).join(
        Organisation, Organisation.id == Petition.responsible_org_id).where(Petition.id.in_(matched))
        .order_by(Petition.id.desc()))
    return [Candidate(p.id, p.number, p.name, p.address, p.title, p.registered_at, p.status,
                      STATUSES.get(p.status, p.status), organisation, MATCHES[matched[p.id]])
            for p, organisation in rows]
