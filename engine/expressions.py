"""Expressions that designers write — gateway conditions, guards, DMN input and output entries,
timer and multi-instance expressions, service-task parameters — evaluated by an allow-list
interpreter over Python's syntax tree.

Nothing here hands designer code to Python's ``eval``. An expression is parsed, every node is
checked against a short list of node kinds this module knows how to evaluate, and the tree is
turned once into a chain of small functions (cached per source text). Evaluating it can only:

- read the case's variables and the helper functions it was given;
- apply operators whose cost is checked *before* the work is done (a string or list can grow
  to at most ``MAX_ITEMS`` elements, an integer to ``MAX_INT_BITS`` bits, so ``7 ** 90000000``
  or ``'a' * 10**10`` are refused instead of computed);
- call the functions of ``SAFE_FUNCTIONS``, the helpers, and the methods of ``METHODS`` on
  values of exactly those types (``s.lower()``, ``d.get('k')``, ``day.year``).

What an operation costs is measured on what it works on, not only on its top-level length: a
list may hold the same million-character string a million times (``[s] * 10**6`` is cheap to
build), so comparing, sorting, hashing or turning it into text is charged by its *weight* — every
element and character it reaches, shared parts counted each time — computed before the operation
runs and stopping as soon as the budget is exceeded. Calls made on an expression's behalf from
C (``map``, ``filter``) are charged like the expression's own, and a helper's call reads the clock.

There is no attribute access beyond ``METHODS``, so nothing reaches a frame, a class, a module or
a ``__dunder__``; ``str.format`` and ``%``-formatting are not offered. Every step is counted and
the clock is read every ``CLOCK_EVERY`` steps, so an expression stops at its time limit whatever it
iterates over. This is an allow-list: an unknown node, name, attribute or callable is refused,
never looked up. Script tasks, which need statements, run in a separate process instead
(``engine.sandbox``).
"""
from __future__ import annotations

import ast
import re
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date, datetime, timedelta
from itertools import chain
from types import GeneratorType
from typing import Any

MAX_SOURCE = 10_000  # characters of one expression
MAX_DEPTH = 60  # nesting of the syntax tree
MAX_ITEMS = 1_000_000  # elements of any string, list, set or dict an expression builds
MAX_INT_BITS = 4_096  # ~1,233 decimal digits
MAX_STEPS = 10_000_000  # steps plus elements allocated: a cap on time and memory whatever the clock says
CLOCK_EVERY = 2_048
CACHE_SIZE = 2_048
MAX_SECONDS = 2.0  # a measurement made outside any evaluation
FORMAT_SPEC = re.compile(r"^[<>^=]?[+\- ]?#?0?\d{0,2}[,_]?(\.\d{1,2})?[bcdeEfFgGnosxX%]?$")


class ScriptRejected(Exception):
    """Designer code that is not allowed, or that was stopped (too long, too large, out of time)."""


class _Budget:
    """Steps taken and the deadline of one evaluation."""

    __slots__ = ("steps", "next_clock", "deadline", "seconds", "measured")

    def __init__(self, seconds: float):
        self.measured: dict[int, tuple[Any, int, int]] = {}  # id → (container, weight, text size): see _measure
        self.steps = 0
        self.next_clock = CLOCK_EVERY
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds

    def charge(self, units: int = 1) -> None:
        self.steps += units
        if self.steps >= self.next_clock:
            self.next_clock = self.steps + CLOCK_EVERY
            self.check_clock()
            if self.steps > MAX_STEPS:
                raise ScriptRejected(f"表达式的计算量超过上限（{MAX_STEPS:,} 步）(expression too costly)")

    def check_clock(self) -> None:
        if time.monotonic() > self.deadline:
            raise ScriptRejected(f"表达式运行超过 {self.seconds:g} 秒，已被终止 (expression timed out)")

    @property
    def left(self) -> int:
        """Steps still allowed: how far a weight needs to be measured before it is too much anyway."""
        return max(0, MAX_STEPS - self.steps)


_ACTIVE = threading.local()  # the budget of the evaluation running on this thread


def _active_budget() -> _Budget | None:
    return getattr(_ACTIVE, "budget", None)


class _Frame:
    """What names mean during one evaluation: comprehension variables, then the case's variables,
    then the functions."""

    __slots__ = ("scopes", "budget")

    def __init__(self, scopes: list[Mapping[str, Any]], budget: _Budget):
        self.scopes = scopes
        self.budget = budget

    def lookup(self, name: str) -> Any:
        for scope in reversed(self.scopes):
            if name in scope:
                return scope[name]
        raise NameError(f"name '{name}' is not defined")


Node = Callable[[_Frame], Any]


# ---------------------------------------------------------------------------- size checks
_CONTAINERS: tuple[type[Iterable[Any]], ...] = (list, tuple, set, frozenset, dict, type({}.keys()),
                                                 type({}.values()), type({}.items()))
_FIXED_TEXT = {float: 32, bool: 5, type(None): 4, date: 32, datetime: 64, timedelta: 64}  # longest repr
_NOT_TEXT = 1 << 62  # the text size of something that has no text as case data (a generator, a function)


def _size(value: Any) -> int:
    return len(value) if isinstance(value, str | list | tuple | dict | set | frozenset) else 1


def _measure(value: Any, budget: _Budget) -> tuple[int, int]:
    """(weight, text): every element and character ``value`` reaches, a shared part counted each time
    it is reached (what comparing, hashing or sorting it may have to look at); and an upper bound of
    the length of its ``repr``. Each container is measured once per evaluation (remembered by
    identity; the budget keeps it alive meanwhile), so a list holding the same big list a thousand
    times costs one measurement of that list; the walk stops once the weight passes what any
    evaluation may spend."""
    kind = type(value)
    if kind is str:
        return len(value) + 1, 10 * len(value) + 2  # repr escapes a character in at most 10 (\U0001f600)
    if kind is int:
        return 1, value.bit_length() // 3 + 2
    if kind in _FIXED_TEXT:
        return 1, _FIXED_TEXT[kind]
    if not isinstance(value, _CONTAINERS):
        return 1, _NOT_TEXT
    found = budget.measured.get(id(value))
    if found is not None:
        return found[1], found[2]
    weight, text = 1, 16
    if isinstance(value, dict):
        elements: Iterable[Any] = chain(value.keys(), value.values())
        text += 2 * len(value)
    else:
        elements = value
    for count, item in enumerate(elements, 1):
        item_weight, item_text = _measure(item, budget)
        weight += item_weight
        text += item_text + 2
        if weight > MAX_STEPS:
            break
        if not count & 0xFFFF:
            budget.check_clock()
    budget.measured[id(value)] = (value, weight, text)
    return weight, text


def _weight(value: Any) -> int:
    """The weight of ``value`` (see ``_measure``): its length for a string, 1 for a number."""
    if isinstance(value, str):
        return len(value) + 1
    if not isinstance(value, _CONTAINERS):
        return 1
    return _measure(value, _active_budget() or _Budget(MAX_SECONDS))[0]


def _charge_weight(*values: Any) -> None:
    """Charge the active evaluation for work proportional to the weight of ``values``."""
    budget = _active_budget()
    if budget is not None:
        budget.charge(sum(_weight(value) for value in values))


def _hash_cost(key: Any) -> int:
    """What hashing ``key`` costs: a tuple's hash is not cached, it is computed from every element."""
    return _weight(key) if isinstance(key, tuple | frozenset) else 1


def _check_items(count: int) -> None:
    if count > MAX_ITEMS:
        raise ScriptRejected(f"表达式生成的数据超过 {MAX_ITEMS:,} 个元素 (result too large)")


def _check_int(value: Any) -> Any:
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise ScriptRejected(f"整数超过 {MAX_INT_BITS} 位 (integer too large)")
    return value


def _is_sequence(value: Any) -> bool:
    return isinstance(value, str | list | tuple)


def _text(value: Any, conversion: Callable[[Any], str] | None = None, spec: str = "") -> str:
    """``value`` as text (``str()``, an f-string's ``!r``/``!a`` and format spec), its length bounded
    *before* it is built: a list holding one long string a million times is refused, not rendered."""
    if not (isinstance(value, str) and conversion in (None, str)):
        budget = _active_budget() or _Budget(MAX_SECONDS)
        weight, bound = _measure(value, budget)
        if bound >= _NOT_TEXT:
            what = type(value).__name__ if not isinstance(value, _CONTAINERS) else "含有函数或生成器的数据"
            raise ScriptRejected(f"表达式不能把 {what} 转换为文本")
        if bound > 10 * MAX_ITEMS or weight > MAX_STEPS:
            raise ScriptRejected(f"表达式生成的数据超过 {MAX_ITEMS:,} 个元素 (result too large)")
        budget.charge(weight)
    if conversion is not None:
        value = conversion(value)
    text = format(value, spec)
    _check_items(len(text))
    return text


def _add(a: Any, b: Any) -> Any:
    if _is_sequence(a) and _is_sequence(b):
        _check_items(len(a) + len(b))
    return _check_int(a + b)


def _mul(a: Any, b: Any) -> Any:
    if _is_sequence(a) and isinstance(b, int) or _is_sequence(b) and isinstance(a, int):
        seq, times = (a, b) if _is_sequence(a) else (b, a)
        _check_items(len(seq) * max(times, 0))
    elif isinstance(a, int) and isinstance(b, int) and a.bit_length() + b.bit_length() > MAX_INT_BITS + 1:
        raise ScriptRejected(f"整数超过 {MAX_INT_BITS} 位 (integer too large)")
    return a * b


def _pow(a: Any, b: Any) -> Any:
    if isinstance(a, int) and isinstance(b, int) and b > 0 and abs(a) > 1 \
            and (abs(a).bit_length() - 1) * b > MAX_INT_BITS:
        raise ScriptRejected(f"整数超过 {MAX_INT_BITS} 位 (integer too large)")
    return a ** b


def _mod(a: Any, b: Any) -> Any:
    if isinstance(a, str):
        raise ScriptRejected("表达式不支持 % 字符串格式化，请用 f-string")
    return a % b


_BINARY: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: _add, ast.Sub: lambda a, b: _check_int(a - b), ast.Mult: _mul, ast.Div: lambda a, b: a / b,
    ast.FloorDiv: lambda a, b: a // b, ast.Mod: _mod, ast.Pow: _pow,
    ast.BitAnd: lambda a, b: a & b, ast.BitOr: lambda a, b: a | b, ast.BitXor: lambda a, b: a ^ b,
}
_COMPARE: dict[type, Callable[[Any, Any], Any]] = {
    ast.Eq: lambda a, b: a == b, ast.NotEq: lambda a, b: a != b, ast.Lt: lambda a, b: a < b,
    ast.LtE: lambda a, b: a <= b, ast.Gt: lambda a, b: a > b, ast.GtE: lambda a, b: a >= b,
    ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b,
    ast.Is: lambda a, b: a is b, ast.IsNot: lambda a, b: a is not b,
}


# ---------------------------------------------------------------------------- functions and methods
FLAT, SHALLOW, DEEP = "flat", "shallow", "deep"  # what a call is charged for before it runs


class _Safe:
    """A callable an expression may call: a builtin with its cost model, or a bound method.

    Every call is charged to the evaluation running on this thread — also a call that ``map`` or
    ``filter`` makes from C — *before* it runs, by what its arguments (and a method's receiver)
    cost to look at: ``FLAT`` one step (numbers, ``len``), ``SHALLOW`` their lengths (copying or
    iterating the top level), ``DEEP`` their weight (comparing, hashing, turning into text). A
    deployment's helper (``clock``) may take milliseconds: the clock is read after each call."""

    __slots__ = ("function", "name", "cost", "receiver", "clock")

    def __init__(self, function: Callable[..., Any], name: str, cost: str = DEEP, receiver: Any = None,
                 clock: bool = False):
        self.function = function
        self.name = name
        self.cost = cost
        self.receiver = receiver
        self.clock = clock

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        budget = _active_budget()
        if budget is not None:
            budget.charge()
            if self.cost != FLAT:
                inputs = (*args, *kwargs.values(), *(() if self.receiver is None else (self.receiver,)))
                if self.cost == SHALLOW:
                    budget.charge(sum(_size(value) for value in inputs))
                else:
                    _charge_weight(*inputs)
        result = self.function(*args, **kwargs)
        if budget is not None:
            budget.charge(_size(result))
            if self.clock:
                budget.check_clock()
        return result

    def __repr__(self) -> str:
        return f"<function {self.name}>"


def _materialise(values: Iterable[Any]) -> list[Any]:
    """An iterable as a list, no longer than MAX_ITEMS (a generator is charged as it runs)."""
    if isinstance(values, range | str | list | tuple | dict | set | frozenset):
        _check_items(len(values))
        return list(values)
    result = []
    for value in values:
        result.append(value)
        if len(result) > MAX_ITEMS:
            _check_items(len(result))
    return result


def _range(*args: int) -> range:
    result = range(*args)
    _check_items(len(result))
    return result


def _round(number: Any, ndigits: int | None = None) -> Any:
    if ndigits is not None and not -30 <= ndigits <= 30:
        raise ScriptRejected("round() 的位数应在 -30 到 30 之间")
    return round(number, ndigits) if ndigits is not None else round(number)


def _sum(values: Iterable[Any], start: int | float = 0) -> Any:
    if not isinstance(start, int | float):
        raise ScriptRejected("sum() 只能对数字求和")
    total = start
    for value in _materialise(values):
        if not isinstance(value, int | float):
            raise ScriptRejected("sum() 只能对数字求和")
        total = _check_int(total + value)
    return total


def _str(value: Any = "") -> str:
    return _text(value)


def _int(value: Any = 0, *base: int) -> int:
    if isinstance(value, str) and len(value) > 1_000:
        raise ScriptRejected("int() 的文本过长")
    return int(value, *base)


def _sorted(values: Iterable[Any], *, reverse: bool = False) -> list[Any]:
    items = _materialise(values)
    budget = _active_budget()
    if budget is not None:  # each element takes part in about log2(n) comparisons
        budget.charge(len(items) * len(items).bit_length())
    return sorted(items, reverse=bool(reverse))


def _map(function: Any, *values: Iterable[Any]) -> list[Any]:
    if not isinstance(function, _Safe):
        raise ScriptRejected("map() 只能使用表达式可调用的函数")
    return _materialise(map(function, *(_materialise(v) for v in values)))


def _filter(function: Any, values: Iterable[Any]) -> list[Any]:
    if function is not None and not isinstance(function, _Safe):
        raise ScriptRejected("filter() 只能使用表达式可调用的函数")
    return [value for value in _materialise(values) if (function(value) if function is not None else value)]


def _collect(kind: Callable[[list[Any]], Any]) -> Callable[..., Any]:
    def build(values: Iterable[Any] = ()) -> Any:
        return kind(_materialise(values))

    return build


def _minmax(pick: Callable[..., Any]) -> Callable[..., Any]:
    def choose(*args: Any, default: Any = None) -> Any:
        values = _materialise(args[0]) if len(args) == 1 else list(args)
        if not values and default is not None:
            return default
        return pick(values)

    return choose


_COSTS = {name: FLAT for name in ("abs", "bool", "divmod", "int", "len", "round", "range", "date", "datetime",
                                   "timedelta")}
_COSTS.update({name: SHALLOW for name in ("all", "any", "float", "sum", "list", "tuple", "enumerate", "zip",
                                          "reversed", "map", "filter")})
_BUILTIN_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "abs": abs, "all": lambda values: all(_materialise(values)), "any": lambda values: any(_materialise(values)),
    "bool": bool, "divmod": divmod, "float": float, "int": _int, "len": len, "round": _round, "str": _str,
    "sum": _sum, "sorted": _sorted, "max": _minmax(max), "min": _minmax(min), "range": _range,
    "list": _collect(list), "tuple": _collect(tuple), "set": _collect(set),
    "dict": lambda values=(), **pairs: {**dict(_materialise(values)), **pairs},
    "enumerate": lambda values, start=0: list(enumerate(_materialise(values), start)),
    "zip": lambda *values: list(zip(*(_materialise(v) for v in values), strict=False)),
    "reversed": lambda values: list(reversed(_materialise(values))), "map": _map, "filter": _filter,
    "date": date, "datetime": datetime, "timedelta": timedelta,
}
SAFE_FUNCTIONS: dict[str, _Safe] = {name: _Safe(function, name, _COSTS.get(name, DEEP))
                                    for name, function in _BUILTIN_FUNCTIONS.items()}


def _replace(text: str, old: str, new: str, count: int = -1) -> str:
    occurrences = (len(text) + 1 if old == "" else text.count(old)) if count < 0 else count
    _check_items(len(text) + max(0, occurrences) * max(0, len(new) - len(old)))
    return text.replace(old, new, count)


def _join(separator: str, values: Iterable[Any]) -> str:
    items = _materialise(values)
    _check_items(sum(len(item) for item in items if isinstance(item, str)) + len(separator) * len(items))
    return separator.join(items)


_STRING_METHODS = {name: getattr(str, name) for name in (
    "lower", "upper", "strip", "lstrip", "rstrip", "startswith", "endswith", "split", "isdigit", "count",
    "find", "title")}
_STRING_METHODS.update({"replace": _replace, "join": _join})
_DATE_FIELDS = ("year", "month", "day", "weekday", "isoweekday", "isoformat", "toordinal")
METHODS: dict[type, dict[str, Any]] = {
    str: _STRING_METHODS,
    dict: {name: getattr(dict, name) for name in ("get", "keys", "values", "items")},
    list: {"count": list.count, "index": list.index},
    tuple: {"count": tuple.count, "index": tuple.index},
    date: {name: getattr(date, name) for name in _DATE_FIELDS},
    datetime: {name: getattr(datetime, name) for name in (*_DATE_FIELDS, "hour", "minute", "second", "date")},
    timedelta: {"days": timedelta.days, "seconds": timedelta.seconds, "total_seconds": timedelta.total_seconds},
}
CLASS_METHODS: dict[Any, dict[str, Callable[..., Any]]] = {
    date: {"today": date.today, "fromisoformat": date.fromisoformat},
    datetime: {"now": datetime.now, "today": datetime.today, "fromisoformat": datetime.fromisoformat},
}

_MEMBER_NAMES = frozenset(name for members in (*METHODS.values(), *CLASS_METHODS.values()) for name in members)


# methods that look at their receiver (scan a list, read a string); the others are charged by their arguments
_SCANNED_RECEIVERS = (str, list, tuple)


def _attribute(value: Any, name: str) -> Any:
    if isinstance(value, _Safe) and value.function in CLASS_METHODS:
        members = CLASS_METHODS[value.function]
        if name in members:
            return _Safe(members[name], f"{value.name}.{name}", SHALLOW)
    members = METHODS.get(type(value), {})
    if name not in members:
        raise ScriptRejected(f"表达式不能访问 {type(value).__name__} 的属性 {name} (attribute not allowed)")
    member = members[name]
    if not callable(member):  # a data descriptor: date.year, timedelta.days …
        return member.__get__(value)
    kind = type(value)
    if kind in (date, datetime, timedelta):
        return _Safe(lambda *args, **kwargs: member(value, *args, **kwargs), name, FLAT)
    return _Safe(lambda *args, **kwargs: member(value, *args, **kwargs), name, DEEP,
                 receiver=value if kind in _SCANNED_RECEIVERS else None)


def _compare_cost(kind: type, a: Any, b: Any) -> int:
    """Steps a comparison may take, measured before it runs. Two containers compare element by
    element until one runs out: at most the lighter one's weight; ``x in list`` compares ``x`` with
    each element; ``x in set`` hashes ``x``; ``is`` looks at nothing."""
    if kind in (ast.Is, ast.IsNot):
        return 1
    if not isinstance(a, _CONTAINERS) and not isinstance(b, _CONTAINERS):
        return max(_size(a), _size(b))
    if kind in (ast.In, ast.NotIn):
        if isinstance(b, dict | set | frozenset):
            return _hash_cost(a) + 1
        return min(_weight(a) * max(1, _size(b)), _weight(b))
    return min(_weight(a), _weight(b))


def _hashed(frame: _Frame, items: list[Any], kind: type) -> Any:
    """A set of ``items`` or a dict of (key, value) pairs, charged for hashing each key first."""
    for item in items:
        frame.budget.charge(_hash_cost(item[0] if kind is dict else item))
    return kind(items)


# ---------------------------------------------------------------------------- compilation
class _Compiler:
    """Turns a checked syntax tree into nested closures; refuses every node it does not know."""

    def __init__(self, source: str):
        self.source = source

    def refuse(self, node: ast.AST, what: str) -> ScriptRejected:
        return ScriptRejected(f"表达式中不允许使用 {what}（第 {getattr(node, 'col_offset', 0) + 1} 个字符）")

    def compile(self, node: ast.AST, depth: int = 0) -> Node:
        if depth > MAX_DEPTH:
            raise ScriptRejected(f"表达式嵌套超过 {MAX_DEPTH} 层")
        method = getattr(self, f"_{type(node).__name__}", None)
        if method is None:
            raise self.refuse(node, type(node).__name__)
        return method(node, depth + 1)

    def _Expression(self, node: ast.Expression, depth: int) -> Node:
        return self.compile(node.body, depth)

    def _Constant(self, node: ast.Constant, depth: int) -> Node:
        value = node.value
        if not isinstance(value, str | int | float | bool | type(None)):
            raise self.refuse(node, type(value).__name__)
        _check_int(value)
        return lambda frame: value

    def _Name(self, node: ast.Name, depth: int) -> Node:
        name = node.id

        def load(frame: _Frame) -> Any:
            frame.budget.charge()
            return frame.lookup(name)

        return load

    def _BoolOp(self, node: ast.BoolOp, depth: int) -> Node:
        values = [self.compile(v, depth) for v in node.values]
        if isinstance(node.op, ast.And):
            def both(frame: _Frame) -> Any:
                result = True
                for value in values:
                    result = value(frame)
                    if not result:
                        return result
                return result
            return both

        def either(frame: _Frame) -> Any:
            result = False
            for value in values:
                result = value(frame)
                if result:
                    return result
            return result
        return either

    def _UnaryOp(self, node: ast.UnaryOp, depth: int) -> Node:
        operand = self.compile(node.operand, depth)
        if isinstance(node.op, ast.Not):
            return lambda frame: not operand(frame)
        if isinstance(node.op, ast.USub):
            return lambda frame: -operand(frame)
        if isinstance(node.op, ast.UAdd):
            return lambda frame: +operand(frame)
        raise self.refuse(node, "按位取反 ~")

    def _BinOp(self, node: ast.BinOp, depth: int) -> Node:
        operator = _BINARY.get(type(node.op))
        if operator is None:
            raise self.refuse(node, f"运算符 {type(node.op).__name__}")
        left, right = self.compile(node.left, depth), self.compile(node.right, depth)

        def apply(frame: _Frame) -> Any:
            a, b = left(frame), right(frame)
            result = operator(a, b)
            frame.budget.charge(max(_size(a), _size(b)) + _size(result))
            return result

        return apply

    def _Compare(self, node: ast.Compare, depth: int) -> Node:
        left = self.compile(node.left, depth)
        steps = [(type(op), _COMPARE[type(op)], self.compile(c, depth))
                 for op, c in zip(node.ops, node.comparators, strict=True)]

        def compare(frame: _Frame) -> bool:
            a = left(frame)
            for kind, operator, right in steps:
                b = right(frame)
                frame.budget.charge(_compare_cost(kind, a, b))
                if not operator(a, b):
                    return False
                a = b
            return True

        return compare

    def _IfExp(self, node: ast.IfExp, depth: int) -> Node:
        test, body, orelse = (self.compile(n, depth) for n in (node.test, node.body, node.orelse))
        return lambda frame: body(frame) if test(frame) else orelse(frame)

    def _Subscript(self, node: ast.Subscript, depth: int) -> Node:
        value, index = self.compile(node.value, depth), self.compile(node.slice, depth)

        def item(frame: _Frame) -> Any:
            container, key = value(frame), index(frame)
            frame.budget.charge(_hash_cost(key))
            result = container[key]
            frame.budget.charge(_size(result) if isinstance(key, slice) else 1)
            return result

        return item

    def _Slice(self, node: ast.Slice, depth: int) -> Node:
        parts = [self.compile(p, depth) if p is not None else None for p in (node.lower, node.upper, node.step)]
        return lambda frame: slice(*(p(frame) if p is not None else None for p in parts))

    def _Attribute(self, node: ast.Attribute, depth: int) -> Node:
        value, name = self.compile(node.value, depth), node.attr
        if name not in _MEMBER_NAMES:
            raise ScriptRejected(f"表达式不能访问属性 {name} (attribute not allowed)")
        return lambda frame: _attribute(value(frame), name)

    def _Call(self, node: ast.Call, depth: int) -> Node:
        if any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords):
            raise self.refuse(node, "*args / **kwargs")
        function = self.compile(node.func, depth)
        args = [self.compile(a, depth) for a in node.args]
        keywords = [(k.arg, self.compile(k.value, depth)) for k in node.keywords if k.arg is not None]

        def call(frame: _Frame) -> Any:
            target = function(frame)
            if not isinstance(target, _Safe):
                raise ScriptRejected(f"表达式不能调用 {type(target).__name__} (not callable here)")
            return target(*(a(frame) for a in args), **{name: v(frame) for name, v in keywords})  # charged by _Safe

        return call

    def _elements(self, nodes: list[ast.expr], depth: int) -> list[Node]:
        if any(isinstance(n, ast.Starred) for n in nodes):
            raise self.refuse(nodes[0], "*展开")
        return [self.compile(n, depth) for n in nodes]

    def _List(self, node: ast.List, depth: int) -> Node:
        items = self._elements(node.elts, depth)
        return lambda frame: [item(frame) for item in items]  # as long as the source: its nodes are charged

    def _Tuple(self, node: ast.Tuple, depth: int) -> Node:
        items = self._elements(node.elts, depth)
        return lambda frame: tuple(item(frame) for item in items)

    def _Set(self, node: ast.Set, depth: int) -> Node:
        items = self._elements(node.elts, depth)
        return lambda frame: _hashed(frame, [item(frame) for item in items], set)

    def _Dict(self, node: ast.Dict, depth: int) -> Node:
        if any(k is None for k in node.keys):
            raise self.refuse(node, "**展开")
        pairs = [(self.compile(k, depth), self.compile(v, depth)) for k, v in zip(node.keys, node.values,  # type: ignore[arg-type]
                                                                                   strict=True)]
        return lambda frame: _hashed(frame, [(k(frame), v(frame)) for k, v in pairs], dict)

    def _JoinedStr(self, node: ast.JoinedStr, depth: int) -> Node:
        parts = [self.compile(v, depth) for v in node.values]

        def join(frame: _Frame) -> str:
            text = "".join(part(frame) for part in parts)
            _check_items(len(text))
            frame.budget.charge(len(text))
            return text

        return join

    def _FormattedValue(self, node: ast.FormattedValue, depth: int) -> Node:
        value = self.compile(node.value, depth)
        spec = ""
        if node.format_spec is not None:
            pieces = node.format_spec.values if isinstance(node.format_spec, ast.JoinedStr) else []
            if not all(isinstance(p, ast.Constant) and isinstance(p.value, str) for p in pieces):
                raise self.refuse(node, "动态格式说明")
            spec = "".join(p.value for p in pieces)  # type: ignore[attr-defined]
        conversion = {-1: None, ord("s"): str, ord("r"): repr, ord("a"): ascii}[node.conversion]

        def formatted(frame: _Frame) -> str:
            result = value(frame)
            if spec and not (isinstance(result, date) and len(spec) <= 64 and "%" in spec
                             or FORMAT_SPEC.match(spec)):
                raise ScriptRejected(f"不支持的格式说明 {spec!r}")
            text = _text(result, conversion, spec)
            frame.budget.charge(len(text))
            return text

        return formatted

    # comprehensions --------------------------------------------------------------
    def _target(self, node: ast.expr) -> Callable[[dict[str, Any], Any], None]:
        if isinstance(node, ast.Name):
            name = node.id
            return lambda scope, value: scope.__setitem__(name, value)
        if isinstance(node, ast.Tuple) and all(isinstance(e, ast.Name | ast.Tuple) for e in node.elts):
            targets = [self._target(e) for e in node.elts]

            def unpack(scope: dict[str, Any], value: Any) -> None:
                values = tuple(value)
                if len(values) != len(targets):
                    raise ValueError(f"需要 {len(targets)} 个值，得到 {len(values)} 个")
                for target, item in zip(targets, values, strict=True):
                    target(scope, item)

            return unpack
        raise self.refuse(node, "这种循环变量")

    def _loops(self, generators: list[ast.comprehension], depth: int) -> Callable[[_Frame], Iterator[_Frame]]:
        """The comprehension's ``for … in … if …`` clauses as an iterator of frames, one per element."""
        clauses = []
        for clause in generators:
            if clause.is_async:
                raise self.refuse(clause, "async")
            clauses.append((self._target(clause.target), self.compile(clause.iter, depth),
                            [self.compile(test, depth) for test in clause.ifs]))

        def frames(frame: _Frame, level: int = 0) -> Iterator[_Frame]:
            if level == len(clauses):
                yield frame
                return
            assign, source, tests = clauses[level]
            for value in source(frame):
                frame.budget.charge()
                scope: dict[str, Any] = {}
                assign(scope, value)
                inner = _Frame([*frame.scopes, scope], frame.budget)
                if all(test(inner) for test in tests):
                    yield from frames(inner, level + 1)

        return frames

    def _ListComp(self, node: ast.ListComp, depth: int) -> Node:
        loops, element = self._loops(node.generators, depth), self.compile(node.elt, depth)

        def build(frame: _Frame) -> list[Any]:
            return _materialise(element(inner) for inner in loops(frame))

        return build

    def _GeneratorExp(self, node: ast.GeneratorExp, depth: int) -> Node:
        loops, element = self._loops(node.generators, depth), self.compile(node.elt, depth)
        return lambda frame: (element(inner) for inner in loops(frame))

    def _SetComp(self, node: ast.SetComp, depth: int) -> Node:
        loops, element = self._loops(node.generators, depth), self.compile(node.elt, depth)
        return lambda frame: _hashed(frame, _materialise(element(inner) for inner in loops(frame)), set)

    def _DictComp(self, node: ast.DictComp, depth: int) -> Node:
        loops = self._loops(node.generators, depth)
        key, value = self.compile(node.key, depth), self.compile(node.value, depth)
        return lambda frame: _hashed(frame, _materialise((key(inner), value(inner)) for inner in loops(frame)), dict)


class Expression:
    """One checked expression, ready to evaluate any number of times."""

    __slots__ = ("source", "_root")

    def __init__(self, source: str, root: Node):
        self.source = source
        self._root = root

    def evaluate(self, variables: Iterable[Mapping[str, Any]], functions: Mapping[str, Any],
                 seconds: float) -> Any:
        """The value of the expression; ``variables`` are searched last to first, after nothing
        and before ``functions``. Raises ScriptRejected, or the error of the operation
        that failed (NameError, KeyError, TypeError, ZeroDivisionError…)."""
        frame = _Frame([functions, *variables], _Budget(seconds))
        outer = _active_budget()
        _ACTIVE.budget = frame.budget
        try:
            return _storable(self._root(frame))
        except RecursionError:
            raise ScriptRejected("表达式所处理的数据嵌套过深") from None
        except MemoryError:
            raise ScriptRejected("表达式超出内存上限") from None
        except OverflowError as error:
            raise ScriptRejected(f"数值超出范围：{error}") from None
        finally:
            _ACTIVE.budget = outer


_LAZY: tuple[type[Iterable[Any]], ...] = (GeneratorType, range, type({}.keys()), type({}.values()), type({}.items()))
_DATA = (str, int, float, bool, type(None), date, datetime, timedelta)


def _storable(value: Any) -> Any:
    """The value an expression hands back: case data only (it may be stored with the case). A lazy
    sequence becomes a list; a function or any other object is refused; and what it would take to
    store is bounded — a list holding one long string a million times is not case data."""
    if isinstance(value, _LAZY):
        value = _materialise(value)
    pending = [value]
    seen = weight = 0
    while pending:
        item = pending.pop()
        seen += 1
        if seen > MAX_ITEMS:
            _check_items(seen)
        if isinstance(item, list | tuple | set | frozenset):
            pending.extend(item)
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif not isinstance(item, _DATA):
            raise ScriptRejected(f"表达式的结果含有不能保存的 {type(item).__name__}")
        elif isinstance(item, str):
            weight += len(item)
            if weight > MAX_STEPS:
                raise ScriptRejected(f"表达式的结果超过 {MAX_STEPS:,} 个字符 (result too large)")
    return value


_CACHE: OrderedDict[str, Expression] = OrderedDict()


def compile_expression(source: str) -> Expression:
    """The checked expression for ``source``: SyntaxError when it does not parse (SpiffWorkflow's
    DMN engine relies on that), ScriptRejected when it uses something not allowed."""
    cached = _CACHE.get(source)
    if cached is not None:
        _CACHE.move_to_end(source)
        return cached
    if len(source) > MAX_SOURCE:
        raise ScriptRejected(f"表达式超过 {MAX_SOURCE:,} 个字符")
    try:
        tree = ast.parse(source.strip(), mode="eval")
    except (RecursionError, MemoryError, ValueError):
        raise ScriptRejected("表达式嵌套过深或含有不允许的字符") from None
    expression = Expression(source, _Compiler(source).compile(tree))
    _CACHE[source] = expression
    if len(_CACHE) > CACHE_SIZE:
        _CACHE.popitem(last=False)
    return expression


def helpers(functions: Mapping[str, Callable[..., Any]]) -> dict[str, _Safe]:
    """The safe functions plus the deployment's own helpers (e.g. working-day arithmetic)."""
    return {**SAFE_FUNCTIONS, **{name: _Safe(function, name, DEEP, clock=True) for name, function in functions.items()}}
