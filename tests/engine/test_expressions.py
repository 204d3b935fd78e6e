"""The allow-list interpreter for designers' expressions: what designers need works, everything
else is refused by name, and no expression can run long or grow large however it is written."""
from __future__ import annotations

from datetime import datetime

import pytest

from engine.expressions import ScriptRejected, compile_expression, helpers
from services.bootstrap import Settings
from services.platform.calendar import SCRIPT_FUNCTIONS, add_working_days, is_working_day, working_days_between

FUNCTIONS = helpers({"add_working_days": add_working_days, "is_working_day": is_working_day,
                     "working_days_between": working_days_between})
assert set(SCRIPT_FUNCTIONS) == {"add_working_days", "is_working_day", "working_days_between"}


def evaluate(source: str, seconds: float = 1.0, **data):
    return compile_expression(source).evaluate([data], FUNCTIONS, seconds)


@pytest.mark.parametrize(("source", "data", "expected"), [
    ("decision == 'approve' and len(errors) == 0", {"decision": "approve", "errors": []}, True),
    ("'job_id' not in validation", {"validation": {"job_id": 3}}, False),
    ("review_result['forwarded'] > 0", {"review_result": {"forwarded": 2}}, True),
    ("amount * 2 + 1 if amount < 10 else -amount // 3", {"amount": 4}, 9),
    ("round(sum(p['years'] for p in persons) / len(persons), 1)",
     {"persons": [{"years": 1}, {"years": 2}, {"years": 4}]}, 2.3),
    ("sorted({p['kind'] for p in persons if p['ok']}, reverse=True)",
     {"persons": [{"kind": "a", "ok": True}, {"kind": "b", "ok": True}, {"kind": "c", "ok": False}]}, ["b", "a"]),
    ("{k: v * 2 for k, v in counts.items()}", {"counts": {"x": 1, "y": 2}}, {"x": 2, "y": 4}),
    ("any(x > 2 for x in values) and all(x > 0 for x in values)", {"values": [1, 3]}, True),
    ("max(values, default=0) + min(1, 2) + abs(-3)", {"values": []}, 4),
    ("data.get('missing', 'n/a').upper()", {"data": {}}, "N/A"),
    ("name.strip().startswith('张') and ','.join(tags)", {"name": " 张三", "tags": ["a", "b"]}, "a,b"),
    ("f'{name}：{score:.1f} 分'", {"name": "张三", "score": 9.25}, "张三：9.2 分"),
    ("items[1:3] + items[-1:]", {"items": [1, 2, 3, 4]}, [2, 3, 4]),
    ("(due - start).days", {"due": datetime(2026, 10, 9), "start": datetime(2026, 9, 30)}, 9),
    ("start + timedelta(days=3) > start and start.year == 2026", {"start": datetime(2026, 9, 30)}, True),
    ("add_working_days(date(2026, 9, 30), 1).isoformat()", {}, "2026-10-08"),  # 国庆: 10-01…10-07 off
    ("working_days_between(date(2026, 9, 30), date(2026, 10, 12))", {}, 4),  # 10-10 (Sat) is a make-up day
    ("int('12') + float('0.5') + 2 ** 10", {}, 1036.5),
    ("x is None or x in (1, 2)", {"x": None}, True),
    ("not (set(map(str, errors)) - set(rejected)) and list(filter(None, [0, 1, '']))",
     {"errors": [1, 2], "rejected": ["1", "2", "3"]}, [1]),
])
def test_what_designers_write_evaluates(source, data, expected):
    assert evaluate(source, **data) == expected


def test_case_variables_hide_helper_names_like_python_would():
    assert evaluate("len", len=5) == 5
    with pytest.raises(NameError):
        evaluate("undefined_variable + 1")


@pytest.mark.parametrize(("source", "words"), [
    ("().__class__.__bases__[0].__subclasses__()", "属性 __class__"),
    ("x.__class__", "属性 __class__"),
    ("g.gi_frame.f_back.f_globals", "属性 gi_frame"),
    ("(x for x in y).gi_frame", "属性 gi_frame"),
    ("'{0.__class__}'.format(1)", "属性 format"),
    ("'%s' % x", "% 字符串格式化"),
    ("f'{x:{spec}}'", "动态格式说明"),
    ("type(x)", "name 'type' is not defined"),
    ("getattr(x, 'real')", "name 'getattr' is not defined"),
    ("__import__('os')", "name '__import__' is not defined"),
    ("(lambda: 1)()", "Lambda"),
    ("[y := 1]", "NamedExpr"),
    ("len.__self__", "属性 __self__"),
    ("date.today.__self__", "属性 __self__"),
    ("x.real", "属性 real"),
    ("d.update(a=1)", "属性 update"),
    ("b'bytes'", "bytes"),
    ("x(1)", "不能调用"),
])
def test_everything_else_is_refused_by_name(source, words):
    data = {"x": 1, "y": [1], "d": {}, "spec": ">10", "g": (n for n in range(3))}
    with pytest.raises((ScriptRejected, NameError)) as refused:
        evaluate(source, **data)
    assert words in str(refused.value)


@pytest.mark.parametrize(("source", "words"), [
    ("7 ** 90000000", "整数超过"),
    ("2 ** 5000 * 2 ** 5000", "整数超过"),
    ("'a' * 10 ** 10", "超过 1,000,000 个元素"),
    ("[0] * 10 ** 9", "超过 1,000,000 个元素"),
    ("s.replace('', 'y' * 1000)", "超过 1,000,000 个元素"),
    ("','.join(['xxxxxxxxxx'] * 200000)", "超过 1,000,000 个元素"),
    ("list(range(10 ** 12))", "超过 1,000,000 个元素"),
    ("round(1, 10 ** 9)", "位数"),
    ("sum([[1]] * 3, [])", "只能对数字求和"),
    ("add_working_days(date(2026, 1, 1), 10 ** 9)", "工作日数不能超过"),
])
def test_work_that_would_run_long_or_grow_large_is_refused_before_it_is_done(source, words):
    with pytest.raises((ScriptRejected, ValueError)) as refused:
        evaluate(source, s="x" * 10_000)
    assert words in str(refused.value)


def test_a_runaway_comprehension_stops_at_the_time_limit():
    with pytest.raises(ScriptRejected, match="超过 0.2 秒"):
        evaluate("sum(1 for a in range(10 ** 6) for b in range(10 ** 6))", seconds=0.2)


@pytest.mark.parametrize("source", ["[" * 100_000, "(" * 500 + "1" + ")" * 500, "-" * 5000 + "1", "x" * 20_000])
def test_hostile_source_text_is_refused_not_crashed_on(source):
    with pytest.raises((ScriptRejected, SyntaxError)):
        compile_expression(source)


def test_syntax_errors_stay_syntax_errors_for_the_dmn_engine():
    with pytest.raises(SyntaxError):
        compile_expression("> 10")
    assert evaluate("v > 10", v=11) is True


def test_many_allowed_allocations_together_stay_within_the_budget():
    """Each string below is allowed on its own (1,000,000 characters), a million of them are not: the
    interpreter counts what it allocates, so an expression cannot fill the server's memory."""
    with pytest.raises(ScriptRejected):
        evaluate("[s * 1000 for _ in range(1000000)]", seconds=30, s="x" * 1000)


def test_what_an_expression_hands_back_is_case_data():
    assert evaluate("(x * 2 for x in values)", values=[1, 2]) == [2, 4]
    assert evaluate("counts.items()", counts={"a": 1}) == [("a", 1)]
    assert evaluate("date(2026, 1, 5)").isoformat() == "2026-01-05"
    with pytest.raises(ScriptRejected, match="不能保存的 _Safe"):
        evaluate("len")
    with pytest.raises(ScriptRejected, match="不能保存"):
        evaluate("[(y for y in x) for x in values]", values=[[1]])


@pytest.mark.parametrize("source", [
    "[s] * 200 == [s + ''] * 200",  # element by element: 200 comparisons of 100,000 characters
    "([s] * 200).count(s + '')",  # list.count compares with every (shared) element
    "s in [s[:-1] + 'b'] * 200",
    "sorted([s, s + 'x'] * 100)",
    "max([s, s + 'x'] * 100)",
    "len(set([tuple(range(100000))] * 200))",  # a tuple's hash is not cached: computed again for each share
    "len({t: 1 for t in [tuple(range(100000))] * 200})",
    "'x'.startswith(tuple([s] * 200))",
    "len(map(sorted, [list(range(1000))] * 2000))",  # calls that map makes from C are charged too
    "len(filter(sorted, [list(range(1000))] * 2000))",
])
def test_work_on_shared_parts_is_charged_for_every_share(source):
    """``[s] * 200`` costs 200 references to build, but comparing, hashing or sorting it looks at
    200 × 100,000 characters: that is what it is charged, before it runs."""
    with pytest.raises(ScriptRejected, match="计算量超过上限"):
        evaluate(source, s="a" * 100_000)


@pytest.mark.parametrize("source", ["str([s] * 100)", "f'{[s] * 100}'", "f'{[s] * 100!r}'",
                                    "len(str([[s] * 10] * 10))"])
def test_text_of_shared_parts_is_refused_before_it_is_built(source):
    """Turned into text, 100 shares of a 1,000,000-character string would be 100 MB: refused on the
    estimate, without allocating it."""
    import tracemalloc

    tracemalloc.start()
    try:
        with pytest.raises(ScriptRejected, match="超过 1,000,000 个元素|计算量超过上限"):
            evaluate(source, s="a" * 1_000_000)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 * 1024 * 1024


def test_a_result_of_shared_parts_is_not_case_data():
    """Twenty shares of a 1,000,000-character string would be 20 MB in the case's stored state."""
    with pytest.raises(ScriptRejected, match="结果超过 10,000,000 个字符"):
        evaluate("[s] * 20", s="a" * 1_000_000)
    assert len(evaluate("[s] * 2", s="a" * 1_000_000)) == 2


def test_text_of_a_generator_is_refused():
    """Its text would show a memory address of the server."""
    with pytest.raises(ScriptRejected, match="不能把 generator 转换为文本"):
        evaluate("f'{(x for x in y)}'", y=[1])
    with pytest.raises(ScriptRejected, match="转换为文本"):
        evaluate("str([(x for x in y)])", y=[1])


def test_a_slow_helper_is_stopped_at_the_time_limit():
    """A deployment's helper may take milliseconds per call; the clock is read after each call, not
    only every few thousand steps."""
    import time

    def slow(value: int) -> int:
        time.sleep(0.05)
        return value

    functions = helpers({"slow": slow})
    with pytest.raises(ScriptRejected, match="超过 0.2 秒"):
        compile_expression("[slow(i) for i in range(40)]").evaluate([{}], functions, 0.2)
    with pytest.raises(ScriptRejected, match="超过 0.2 秒"):
        compile_expression("map(slow, range(40))").evaluate([{}], functions, 0.2)


def test_ordinary_work_on_case_data_stays_within_the_budget():
    """Within the budget a deployment gives scripts and expressions (BANJIAN_SCRIPT_TIME_LIMIT, 2 s): each
    takes about 0.05 s on a quiet core, so this fails only when the step accounting stops work short."""
    budget = Settings().script_time_limit
    persons = [{"id": str(n), "years": n % 40, "name": f"人员{n}"} for n in range(20_000)]
    rejected = {str(n) for n in range(0, 20_000, 7)}
    assert evaluate("len([p for p in persons if p['id'] in rejected])", budget, persons=persons,
                    rejected=rejected) == 2858
    assert evaluate("len(sorted(p['name'] for p in persons))", budget, persons=persons) == 20_000
    assert evaluate("persons == persons[:]", budget, persons=persons) is True
    assert len(evaluate("str(persons[:1000])", budget, persons=persons)) > 40_000


def test_working_days_follow_the_statutory_calendar():
    """is_working_day reads the package's tables once (its own is_workday scanned them on every
    call); the answers are the package's, and Monday–Friday in a year it does not know."""
    from datetime import date, timedelta

    import chinese_calendar

    day = date(2003, 1, 1)
    while day < date(2028, 1, 1):
        try:
            expected = chinese_calendar.is_workday(day)
        except NotImplementedError:
            expected = day.weekday() < 5
        assert is_working_day(day) is expected, day
        day += timedelta(days=1)
    assert is_working_day(datetime(2026, 10, 1, 9)) is False
