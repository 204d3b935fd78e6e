"""判重 (duplicates.find) over 1,000,000 信访件 in PostgreSQL, for a target of < 200 ms per lookup.

Creates (drops and re-creates) the database ``banjian_bench_petitions`` on the local server
(``BANJIAN_BENCH_PG_ADMIN``, as for the other benchmarks) — or uses ``--database-url``, an empty
database of your own — applies the schema (which creates pg_trgm, migration 0006; made sure of here
as well), a provincial 信访局 with city and county bureaus, one 信访事项, and bulk-loads the items with
COPY: petitioners of 山东 with names drawn from weighted surname and given-name lists (many people
share a name: 王伟, 张伟 …), 18-digit ID numbers with their check digit, 11-digit mobile numbers and
addresses in their county; some petition again and again (their items carry the same particulars,
the address sometimes written differently), a fifth of the letters and visits carry no ID number.
Then VACUUM ANALYZE, and lookups of five kinds, each with the four particulars a registration carries:

* **id number**: a known ID number (name, phone and address new);
* **phone**: a known mobile number (the rest new);
* **name + address**: one of the most frequent names and an address like that person's;
* **repeat petitioner**: every particular of someone who petitioned before (all three branches hit);
* **no match**: particulars nobody has.

Each lookup is one ``duplicates.find`` in its own read-only unit of work, timed in this process (the
loader's objects dropped and the rest frozen first, so that no collection of them lands in a
lookup).

    python bench/petition_duplicates.py [--rows 1000000] [--lookups 200] [--database-url URL]

Last line: the row count and the p95 and maximum lookup time over all kinds.
"""
from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from bench.common import fresh_postgres, postgres_available  # noqa: E402
from services import schema  # noqa: E402
from services.bootstrap import Runtime, Settings, bootstrap  # noqa: E402
from services.petitions import duplicates  # noqa: E402
from services.petitions.labels import BUREAU, CATEGORIES, PURPOSES  # noqa: E402
from services.petitions.models import Petition, PetitionMatter  # noqa: E402
from services.platform.id_number import check_digit  # noqa: E402
from services.platform.organisations import Organisation  # noqa: E402

TARGET_MS = 200
SEED = 20240601
KINDS = ("id number", "phone", "name + address", "repeat petitioner", "no match")

# county-level regions of 山东: code, city, district, streets
COUNTIES = [
    ("370102", "济南市", "历下区", ("泉城路", "解放路", "文化东路", "历山路", "和平路", "经十路")),
    ("370103", "济南市", "市中区", ("经四路", "纬二路", "英雄山路", "舜耕路", "二七新村南路")),
    ("370104", "济南市", "槐荫区", ("经七路", "青年东路", "张庄路", "西市场路")),
    ("370105", "济南市", "天桥区", ("北园大街", "无影山路", "堤口路", "标山路")),
    ("370112", "济南市", "历城区", ("华龙路", "花园路", "工业北路", "洪家楼南路")),
    ("370202", "青岛市", "市南区", ("香港中路", "中山路", "闽江路", "东海西路", "太平路")),
    ("370203", "青岛市", "市北区", ("辽宁路", "台东一路", "延安二路", "敦化路")),
    ("370211", "青岛市", "黄岛区", ("长江中路", "井冈山路", "嘉陵江路", "珠江路")),
    ("370212", "青岛市", "崂山区", ("海尔路", "株洲路", "松岭路", "辽阳东路")),
    ("370303", "淄博市", "张店区", ("人民西路", "柳泉路", "华光路", "共青团路")),
    ("370602", "烟台市", "芝罘区", ("南大街", "北马路", "胜利路", "幸福中路")),
    ("370702", "潍坊市", "潍城区", ("胜利西街", "和平路", "向阳路", "东风西街")),
    ("370705", "潍坊市", "奎文区", ("东风东街", "新华路", "健康东街", "文化路")),
    ("370811", "济宁市", "任城区", ("太白楼路", "建设路", "共青团路", "红星中路")),
    ("370902", "泰安市", "泰山区", ("东岳大街", "岱宗大街", "青年路", "迎胜路")),
    ("371002", "威海市", "环翠区", ("新威路", "统一路", "文化中路", "世昌大道")),
    ("371302", "临沂市", "兰山区", ("解放路", "沂蒙路", "通达路", "金雀山路")),
    ("371402", "德州市", "德城区", ("东方红路", "三八路", "湖滨大道", "新湖大街")),
]
COMPOUNDS = ("幸福小区", "阳光花园", "和平里", "锦绣家园", "丽景苑", "翠苑小区", "金色家园", "华庭", "东方名苑",
             "书香门第", "龙湖花园", "世纪新城", "康居小区", "清河苑", "职工宿舍")
# surnames with weights roughly as in the population (王 7 %, 李 7 % …); the long tail equal
SURNAMES = dict(zip("王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁"
                    "魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹黎易"
                    "常武乔贺赖龚文",
                    [71, 70, 67, 54, 45, 31, 23, 22, 19, 20, 16, 15, 13, 13, 12, 12, 12, 12, 12, 9, 9, 9, 9, 8, 8, 8,
                     7, 7, 7, 7, 7, 7, 7, 7, 6, 6, 6, 6, 6, 6, 6, 6, 6, 5, 5, 5, 5, 5]
                    + [3] * 52, strict=True))
# the most common full given names (伟, 芳 …), by rank; the others are drawn two characters at a time
COMMON_GIVEN = ("伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
                "超", "秀兰", "霞", "平", "刚", "桂英", "华", "建华", "玉兰", "鹏", "辉", "红", "建国")
GIVEN_FIRST = "建国志海永文玉春秀红晓俊德金立宏明小子家云凤玉淑桂丽淑国庆新振学宝"
GIVEN_SECOND = "华平明英军林峰强生忠兰梅芳霞龙辉杰燕波涛斌鹏飞成东亮刚琴萍娟艳丽洁"
MINORITY_NAMES = ("阿依古丽·买买提", "买买提·艾力", "古丽娜尔·吐尔逊", "热依拉·阿不都")  # dots fold away in name_key
TITLES = ("反映拖欠工资问题", "反映小区物业管理问题", "反映房屋征收补偿问题", "反映噪声扰民问题", "反映社保待遇问题",
          "反映土地承包纠纷问题", "反映供暖不达标问题", "反映违章建筑问题", "反映医疗纠纷问题", "反映子女入学问题")
STATUSES = ["replied"] * 60 + ["filed"] * 10 + ["handling"] * 10 + ["registered"] * 8 + ["submitted"] * 5 + \
    ["transferred"] * 3 + ["not_accepted"] * 2 + ["withdrawn"] * 2
COLUMNS = ("id", "number", "matter_id", "form", "organisation_id", "responsible_org_id", "name", "name_key",
           "id_number", "phone", "address", "title", "content", "place_region", "place_address", "purpose",
           "category", "law_related", "anonymous", "first", "in_scope", "visitors", "status", "registered_at",
           "replied_at", "reply", "created_at")


class Person:
    __slots__ = ("name", "id_number", "phone", "address", "region", "street")

    def __init__(self, name: str, id_number: str, phone: str, address: str, region: str, street: str):
        self.name, self.id_number, self.phone, self.address = name, id_number, phone, address
        self.region, self.street = region, street


class People:
    """The petitioners: drawn once from a seeded generator, so a run is reproducible."""

    def __init__(self, count: int, rng: random.Random):
        self.rng = rng
        self.surnames, weights = list(SURNAMES), list(SURNAMES.values())
        self.surname_cum = list(_cumulative(weights))
        self.common_cum = list(_cumulative([1 / (rank + 1) for rank in range(len(COMMON_GIVEN))]))
        self.people = [self.person(n) for n in range(count)]

    def name(self) -> str:
        rng = self.rng
        if rng.random() < 0.001:
            return rng.choice(MINORITY_NAMES)
        surname = rng.choices(self.surnames, cum_weights=self.surname_cum)[0]
        if rng.random() < 0.25:  # one of the common given names, by rank (伟 the most frequent)
            return surname + rng.choices(COMMON_GIVEN, cum_weights=self.common_cum)[0]
        if rng.random() < 0.2:
            return surname + rng.choice(GIVEN_SECOND)
        return surname + rng.choice(GIVEN_FIRST) + rng.choice(GIVEN_SECOND)

    def person(self, n: int) -> Person:
        rng = self.rng
        region, city, district, streets = rng.choice(COUNTIES)
        birth = datetime(1940, 1, 1) + timedelta(days=rng.randrange(60 * 365))  # born 1940–1999
        first17 = f"{region}{birth:%Y%m%d}{rng.randrange(1000):03d}"
        phone = f"1{rng.choice('35789')}{rng.randrange(10)}{(n * 7919 + 1234567) % 100_000_000:08d}"  # unique per n
        street = rng.choice(streets)
        address = (f"山东省{city}{district}{street}{rng.randrange(1, 300)}号{rng.choice(COMPOUNDS)}"
                   f"{rng.randrange(1, 30)}号楼{rng.randrange(1, 6)}单元{rng.randrange(1, 30)}0{rng.randrange(1, 5)}室")
        return Person(self.name(), first17 + check_digit(first17), phone, address, region, street)

    def address_as_written(self, person: Person) -> str:
        """The address as an item records it: mostly as given, sometimes without the province or the
        room — written differently, still alike."""
        roll = self.rng.random()
        if roll < 0.15:
            return person.address.removeprefix("山东省")
        if roll < 0.25:
            return person.address.rsplit("单元", 1)[0] + "单元"
        return person.address


def _cumulative(weights):
    total = 0.0
    for weight in weights:
        total += weight
        yield total


def setup(url: str) -> tuple[Runtime, list[int], int]:
    runtime = bootstrap(Settings(database_url=url))
    schema.upgrade(runtime.db)
    with runtime.unit_of_work() as uow:
        if uow.session.scalar(select(func.count()).select_from(Petition)):
            sys.exit(f"{make_url(url).database} already holds 信访件: give an empty database")
    with runtime.unit_of_work() as uow:
        session = uow.session
        session.execute(text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
        province = Organisation(code="bench-sd", name="山东省信访局", short_name="鲁信", region_code="370000",
                                kind=BUREAU)
        session.add(province)
        session.flush()
        cities: dict[str, Organisation] = {}
        for region, city, _district, _streets in COUNTIES:
            code = region[:4] + "00"
            if code not in cities:
                cities[code] = Organisation(code=f"bench-{code}", name=f"{city}信访局", short_name=city[:2],
                                            region_code=code, kind=BUREAU, parent_id=province.id)
                session.add(cities[code])
        session.flush()
        counties = [Organisation(code=f"bench-{region}", name=f"{district}信访局", short_name=district[:2],
                                 region_code=region, kind=BUREAU, parent_id=cities[region[:4] + "00"].id)
                    for region, _city, district, _streets in COUNTIES]
        session.add_all(counties)
        matter = PetitionMatter(region_code="370102")
        session.add(matter)
        session.flush()
        organisation_ids = [province.id] + [o.id for o in counties]  # by COUNTIES' order after the first
        matter_id = matter.id
        uow.commit()
    print(f"{1 + len(cities) + len(counties)} organisations (信访局 of the province, {len(cities)} cities and "
          f"{len(counties)} counties), one 信访事项")
    return runtime, organisation_ids, matter_id


def rows_of(people: People, rows: int, organisation_ids: list[int], matter_id: int, rng: random.Random):
    """The items, oldest first over five years: four in five from someone who petitions once or twice,
    one in five from the 1,000 who petition again and again (about 200 items each at 1,000,000)."""
    everyone = people.people
    frequent = min(1000, len(everyone))
    county_org = {region: organisation_ids[1 + i] for i, (region, *_rest) in enumerate(COUNTIES)}
    start = datetime(2020, 1, 1)
    step = 5 * 365 * 86400 / rows
    keys: dict[str, str] = {}
    purposes, categories = list(PURPOSES), list(CATEGORIES)
    for n in range(1, rows + 1):
        repeat = rng.random() < 0.2
        person = everyone[rng.randrange(frequent)] if repeat else everyone[rng.randrange(len(everyone))]
        form = rng.choice(("online", "online", "letter", "visit"))
        id_number = person.id_number if form == "online" or rng.random() < 0.8 else ""
        phone = person.phone if rng.random() < 0.95 else ""
        place = person.region if rng.random() < 0.85 else rng.choice(COUNTIES)[0]
        organisation = county_org[place] if rng.random() < 0.7 else organisation_ids[0]
        at = start + timedelta(seconds=n * step)
        status = rng.choice(STATUSES)
        key = keys.get(person.name)
        if key is None:
            key = keys[person.name] = duplicates.normalise_name(person.name)
        yield (n, f"XF{place}{at:%Y%m%d}{n:07d}", matter_id if repeat else None, form, organisation,
               county_org.get(place, organisation) if status != "submitted" else organisation, person.name, key,
               id_number, phone, people.address_as_written(person), rng.choice(TITLES), "信访人反映的具体情况……",
               place, f"{person.street}附近", rng.choice(purposes), rng.choice(categories), False, False, not repeat,
               status == "replied", 1, status, at if status != "submitted" else None,
               at + timedelta(days=30) if status == "replied" else None, "", at)


def load(runtime: Runtime, people: People, rows: int, organisation_ids: list[int], matter_id: int,
         rng: random.Random) -> None:
    connection = runtime.db.raw_connection()
    try:
        cursor = connection.cursor()
        with cursor.copy(f"COPY xf_petition ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for row in rows_of(people, rows, organisation_ids, matter_id, rng):
                copy.write_row(row)
        cursor.execute("SELECT setval('xf_petition_id_seq', %s)", (rows,))
        connection.commit()
    finally:
        connection.close()


def vacuum_analyze(runtime: Runtime) -> None:
    """Statistics for the planner, and the table settled as it is in service: without VACUUM the
    autovacuum a million fresh rows trigger would run during the lookups, on a 2-core machine."""
    with runtime.db.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("VACUUM (ANALYZE) xf_petition"))
        connection.execute(text("ANALYZE organisation"))


def varied(address: str, rng: random.Random) -> str:
    """An address as another registration may write it: without the province, or without the room."""
    if rng.random() < 0.5 and address.startswith("山东省"):
        return address.removeprefix("山东省")
    return address.rsplit("单元", 1)[0] + "单元" if "单元" in address else address


def lookups(session: Session, rows: int, count: int, rng: random.Random) -> list[tuple[str, dict]]:
    """``count`` lookups, the kinds interleaved, drawn from the loaded items (half of them from the
    repeat petitioners'); the new particulars are ones nobody has (IDs of people born in 2005, 166
    numbers, a surname outside the list)."""
    frequent = list(session.scalars(select(Petition.name_key).group_by(Petition.name_key)
                                    .order_by(func.count().desc(), Petition.name_key).limit(20)))

    def existing(kind: str, n: int) -> Petition:
        while True:
            query = select(Petition).where(Petition.id >= rng.randrange(1, rows + 1))
            if kind == "name + address":  # one of that name's items, by the seeded generator
                name = rng.choice(frequent)
                query = select(Petition).where(Petition.name_key == name).order_by(Petition.id).offset(
                    rng.randrange(session.scalar(select(func.count()).where(Petition.name_key == name)) or 1))
            elif n % 2:
                query = query.where(Petition.matter_id.is_not(None)).order_by(Petition.id)  # a repeat petitioner's
            else:
                query = query.order_by(Petition.id)
            row = session.scalars(query.limit(1)).first()
            if row is not None and (kind != "id number" or row.id_number) and (kind != "phone" or row.phone):
                return row

    made = []
    for n in range(count):
        kind = KINDS[n % len(KINDS)]
        first17 = f"{rng.choice(COUNTIES)[0]}2005{rng.randrange(1, 13):02d}{rng.randrange(1, 29):02d}{n % 1000:03d}"
        new = {"name": f"欧阳{rng.choice(GIVEN_FIRST)}{rng.choice(GIVEN_SECOND)}",
               "id_number": first17 + check_digit(first17), "phone": f"166{n:08d}",
               "address": f"山东省{rng.choice(COUNTIES)[2]}新建路{n}号", "region_code": rng.choice(COUNTIES)[0]}
        if kind == "no match":
            made.append((kind, new))
            continue
        row = existing(kind, n)
        if kind == "id number":
            made.append((kind, {**new, "id_number": row.id_number}))
        elif kind == "phone":
            made.append((kind, {**new, "phone": row.phone}))
        elif kind == "name + address":
            made.append((kind, {**new, "name": row.name, "address": varied(row.address, rng),
                                "region_code": row.place_region}))
        else:
            made.append((kind, {"name": row.name, "id_number": row.id_number, "phone": row.phone,
                                "address": varied(row.address, rng), "region_code": row.place_region}))
    return made


def ms(seconds: float) -> float:
    return seconds * 1000


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--lookups", type=int, default=200, help="at least 1; the kinds take turns")
    parser.add_argument("--database-url", help="an empty PostgreSQL database (default: banjian_bench_petitions, "
                                               "dropped and re-created on the local server)")
    args = parser.parse_args()
    if args.rows < 1 or args.lookups < 1:
        parser.error("--rows and --lookups must be at least 1")
    if args.database_url:
        if not args.database_url.startswith("postgresql"):
            sys.exit("判重 is measured on PostgreSQL (pg_trgm): --database-url must be a postgresql:// URL")
        url = args.database_url
    elif postgres_available():
        url = fresh_postgres("banjian_bench_petitions")
    else:
        sys.exit("PostgreSQL is not available (BANJIAN_BENCH_PG_ADMIN, default 127.0.0.1:5432); "
                 "start it or give --database-url")
    rng = random.Random(SEED)
    started = time.perf_counter()
    runtime, organisation_ids, matter_id = setup(url)
    people = People(max(1, args.rows * 2 // 5), rng)
    print(f"schema and {len(people.people):,} petitioners drawn in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    load(runtime, people, args.rows, organisation_ids, matter_id, rng)
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    vacuum_analyze(runtime)
    vacuum_s = time.perf_counter() - started
    with runtime.unit_of_work() as uow:
        session = uow.session
        count = session.scalar(select(func.count()).select_from(Petition)) or 0
        top_name, top_count = session.execute(select(Petition.name_key, func.count()).group_by(Petition.name_key)
                                              .order_by(func.count().desc()).limit(1)).one()
        names = session.scalar(select(func.count(Petition.name_key.distinct())))
        size = session.scalar(text("SELECT pg_total_relation_size('xf_petition')")) or 0
    print(f"loaded {count:,} petitions with COPY in {load_s:.1f} s ({count / load_s:,.0f} rows/s, indexes "
          f"maintained), VACUUM ANALYZE {vacuum_s:.1f} s; table with indexes {size / 1024 / 1024:,.0f} MB; "
          f"{names:,} distinct names, the most frequent {top_name} on {top_count:,} items")

    with runtime.unit_of_work(read_only=True) as uow:
        planned = lookups(uow.session, count, args.lookups, rng)
    # the generator's 400,000 petitioners are gone and what is left is frozen: a full collection of the
    # loader's heap (100 ms and more) is no part of a lookup in a web process
    del people
    gc.collect()
    gc.freeze()
    with runtime.unit_of_work(read_only=True) as uow:  # warm the pool, the plans and the cache
        for _kind, particulars in planned[:10]:
            duplicates.find(uow.session, **particulars)
    timings: dict[str, list[float]] = {kind: [] for kind in KINDS}
    found: dict[str, list[int]] = {kind: [] for kind in KINDS}
    for kind, particulars in planned:
        with runtime.unit_of_work(read_only=True) as uow:
            begun = time.perf_counter()
            candidates = duplicates.find(uow.session, **particulars)
            timings[kind].append(ms(time.perf_counter() - begun))
        found[kind].append(len(candidates))
    runtime.db.dispose()
    every = [t for kind in KINDS for t in timings[kind]]
    for kind in KINDS:
        values = timings[kind]
        if not values:
            continue
        print(f"{kind:<18} {len(values):>4} lookups  p50 {percentile(values, 0.5):7.1f} ms  "
              f"p95 {percentile(values, 0.95):7.1f} ms  max {max(values):7.1f} ms  "
              f"candidates per lookup {statistics.mean(found[kind]):5.1f} (max {max(found[kind])})")
    p95, worst = percentile(every, 0.95), max(every)
    print(f"{'all':<18} {len(every):>4} lookups  p50 {percentile(every, 0.5):7.1f} ms  p95 {p95:7.1f} ms  "
          f"max {worst:7.1f} ms; {count:,} petitions loaded in {load_s:.1f} s")
    print(f"target p95 < {TARGET_MS} ms: {'OK' if p95 < TARGET_MS else 'OVER TARGET'}")
    print(f"petition duplicates: {count} petitions, p95 {round(p95)} ms, max {round(worst)} ms")


if __name__ == "__main__":
    main()
