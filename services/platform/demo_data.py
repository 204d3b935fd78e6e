"""Facts the demo data and the tests share: regions, the demo password, valid ID numbers."""
from __future__ import annotations

from datetime import date

from services.platform.id_number import check_digit

DEMO_PASSWORD = "demo"
REGIONS = [("000000", "全国", "ministry"), ("110000", "北京市", "province"), ("110100", "北京市市辖区", "city"),
           ("110101", "东城区", "county"), ("110105", "朝阳区", "county"), ("120000", "天津市", "province"),
           ("120101", "和平区", "county")]


def demo_id_number(region: str, birth: date, serial: int) -> str:
    """A citizen ID number with a correct check digit (GB 11643)."""
    first17 = f"{region}{birth:%Y%m%d}{serial:03d}"
    return first17 + check_digit(first17)
