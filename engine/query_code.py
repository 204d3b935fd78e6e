"""查询码: the code a case gets at its start, with which anyone who holds it may follow the case's
public status without an account (``services.platform.case_tracking``).

Twelve characters of an alphabet without look-alikes (no 0/O, 1/I/L): 60 random bits, shown in three
groups of four (``7KQ4-WX9M-2HDF``). Entered with or without dashes, in either case. Lookups are
rate-limited per client address by the web layer, so guessing a code is not practical.
"""
from __future__ import annotations

import re
import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LENGTH = 12
_ACCEPTED = re.compile(rf"[{ALPHABET}]{{{LENGTH}}}")


def new_code() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalise(text: str) -> str | None:
    """The stored form of a typed code, or None when it cannot be one."""
    code = re.sub(r"[\s-]", "", text or "").upper()
    return code if _ACCEPTED.fullmatch(code) else None


def shown(code: str | None) -> str:
    return "-".join(code[i:i + 4] for i in range(0, len(code), 4)) if code else ""
