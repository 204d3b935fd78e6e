"""Region codes (行政区划代码): six digits where the significant prefix names the parent.

110000 (province) ⊃ 110100 (city) ⊃ 110101 (county); 000000 is the whole country.
"""
from __future__ import annotations

import re

REGION_CODE = re.compile(r"^\d{6}$")


def region_prefix(code: str) -> str:
    """The significant prefix: 110000 → '11', 110100 → '1101', 110101 → '110101', 000000 → ''."""
    if code == "000000":
        return ""
    if code.endswith("0000"):
        return code[:2]
    if code.endswith("00"):
        return code[:4]
    return code


def covers(parent: str, child: str) -> bool:
    """True when ``child`` is ``parent`` or lies inside it."""
    return child.startswith(region_prefix(parent))


def parent_codes(code: str) -> list[str]:
    """Every region code that covers ``code``, itself included (country first)."""
    result = ["000000", code[:2] + "0000", code[:4] + "00", code]
    return list(dict.fromkeys(result))
