"""Region names (行政区划, a code table: GB/T 2260) in English, derived from the Chinese name, so
that the table needs no second column and a region added later has an English name at once.

The name is romanised in Hanyu Pinyin (``pypinyin``), syllables joined, with the apostrophe the
Pinyin rules put before a syllable beginning with a, o or e (西安 Xi'an), and the administrative
suffix translated (省 Province, 市 City, 区 District, 县 County, 自治区 Autonomous Region …).
``PROPER`` holds the names whose official English is not plain Pinyin (陕西 Shaanxi, 内蒙古 Inner
Mongolia …) or that Pinyin reads otherwise than the place (朝阳 Chaoyang), and ``WHOLE`` the names
translated as a whole (全国, the four municipalities).
"""
from __future__ import annotations

from functools import lru_cache

from pypinyin import lazy_pinyin

# the longest first: 自治区 before 区, 市辖区 before 区
SUFFIXES = (
    ("特别行政区", "Special Administrative Region"), ("自治区", "Autonomous Region"),
    ("自治州", "Autonomous Prefecture"), ("自治县", "Autonomous County"), ("自治旗", "Autonomous Banner"),
    ("市辖区", "Districts"), ("林区", "Forest District"), ("新区", "New Area"), ("地区", "Prefecture"),
    ("省", "Province"), ("市", "City"), ("区", "District"), ("县", "County"), ("旗", "Banner"), ("盟", "League"),
)
PROPER = {
    "陕西": "Shaanxi", "内蒙古": "Inner Mongolia", "西藏": "Xizang", "香港": "Hong Kong", "澳门": "Macao",
    "朝阳": "Chaoyang",  # Pinyin's reading of the word (zhāoyáng, morning sun) is not the place's
    "广西壮族": "Guangxi Zhuang", "宁夏回族": "Ningxia Hui", "新疆维吾尔": "Xinjiang Uygur",
}
WHOLE = {
    "全国": "Nationwide", "北京市": "Beijing Municipality", "天津市": "Tianjin Municipality",
    "上海市": "Shanghai Municipality", "重庆市": "Chongqing Municipality",
}
MUNICIPALITIES = {"北京市": "Beijing", "天津市": "Tianjin", "上海市": "Shanghai", "重庆市": "Chongqing"}


@lru_cache(maxsize=4096)
def english(name: str) -> str:
    """历下区 → Lixia District, 山东省 → Shandong Province, 北京市市辖区 → Beijing Districts."""
    name = name.strip()
    if name in WHOLE:
        return WHOLE[name]
    for municipality, english_name in MUNICIPALITIES.items():  # 北京市市辖区: the municipality's districts
        if name.startswith(municipality) and name != municipality:
            rest = name[len(municipality):]
            return f"{english_name} {dict(SUFFIXES).get(rest) or english(rest)}"
    for suffix, word in SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return f"{romanised(name[:-len(suffix)])} {word}"
    return romanised(name)


def romanised(core: str) -> str:
    """A place name in Pinyin, one word (济南 Jinan, 西安 Xi'an), or its proper English name."""
    if core in PROPER:
        return PROPER[core]
    syllables = lazy_pinyin(core)
    word = syllables[0] + "".join(("'" + s if s[:1] in "aoe" else s) for s in syllables[1:])
    return word[:1].upper() + word[1:]
