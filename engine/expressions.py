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
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import date, datetime, timedelta
from typing import Any

MAX_SOURCE = 10_000  # characters of one expression
MAX_DEPTH = 60  # nesting of the syntax tree
MAX_ITEMS = 1_000_000  # elements of any string, list, set or dict an expression builds
MAX_INT_BITS = 4_096  # ~1,233 decimal digits
MAX_STEPS = 10_000_000  # steps plus elements allocated: a cap on time and memory whatever the clock says
CLOCK_EVERY = 2_048
CACHE_SIZE = 2_048
FORMAT_SPEC = re.compile(r"^[<>^=]?[+\- ]?#?0?\d{0,2}[,_]?(\.\d{1,2})?[bcdeEfFgGnosxX%]?$")


class ScriptRejected(Exception):
    """Designer code that is not allowed, or that was stopped (too long, too large, out of time)."""


class _Budget:
    """Steps taken and the deadline of one evaluation."""

    __slots__ = ("steps", "next_clock", "deadline", "seconds")

    def __init__(self, seconds: float):
        self.steps = 0
        self.next_clock = CLOCK_EVERY
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds

    def charge(self, units: int = 1) -> None:
        self.steps += units
        if self.steps >= self.next_clock:
            self.next_clock = self.steps + CLOCK_EVERY
            if self.steps > MAX_STEPS or time.monotonic() > self.deadline:
                raise ScriptRejected(f"表达式运行超过 {self.seconds:g} 秒，已被终止 (expression timed out)")


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
def _size(value: Any) -> int:
    return len(value) if isinstance(value, str | list | tuple | dict | set | frozenset) else 1


def _check_items(count: int) -> None:
    if count > MAX_ITEMS:
        raise ScriptRejected(f"表达式生成的数据超过 {MAX_ITEMS:,} 个元素 (result too large)")


def _check_int(value: Any) -> Any:
    if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
        raise ScriptRejected(f"整数超过 {MAX_INT_BITS} 位 (integer too large)")
    return value


def _is_sequence(value: Any) -> bool:
    return isinstance(value, str | list | tuple)


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
class _Safe:
    """A callable an expression may call: a builtin with its cost model, or a bound method."""

    __slots__ = ("function", "name")

    def __init__(self, function: Callable[..., Any], name: str):
        self.function = function
        self.name = name

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.function(*args, **kwargs)

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
    text = str(value)
    _check_items(len(text))
    return text


def _int(value: Any = 0, *base: int) -> int:
    if isinstance(value, str) and len(value) > 1_000:
        raise ScriptRejected("int() 的文本过长")
    return int(value, *base)


def _sorted(values: Iterable[Any], *, reverse: bool = False) -> list[Any]:
    return sorted(_materialise(values), reverse=bool(reverse))


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


SAFE_FUNCTIONS: dict[str, _Safe] = {name: _Safe(function, name) for name, function in {
    "abs": abs, "all": lambda values: all(_materialise(values)), "any": lambda values: any(_materialise(values)),
    "bool": bool, "divmod": divmod, "float": float, "int": _int, "len": len, "round": _round, "str": _str,
    "sum": _sum, "sorted": _sorted, "max": _minmax(max), "min": _minmax(min), "range": _range,
    "list": _collect(list), "tuple": _collect(tuple), "set": _collect(set),
    "dict": lambda values=(), **pairs: {**dict(_materialise(values)), **pairs},
    "enumerate": lambda values, start=0: list(enumerate(_materialise(values), start)),
    "zip": lambda *values: list(zip(*(_materialise(v) for v in values), strict=False)),
    "reversed": lambda values: list(reversed(_materialise(values))), "map": _map, "filter": _filter,
    "date": date, "datetime": datetime, "timedelta": timedelta,
}.items()}


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


def _attribute(value: Any, name: str) -> Any:
    if isinstance(value, _Safe) and value.function in CLASS_METHODS:
        members = CLASS_METHODS[value.function]
        if name in members:
            return _Safe(members[name], f"{value.name}.{name}")
    members = METHODS.get(type(value), {})
    if name not in members:
        raise ScriptRejected(f"表达式不能访问 {type(value).__name__} 的属性 {name} (attribute not allowed)")
    member = members[name]
    if not callable(member):  # a data descriptor: date.year, timedelta.days …
        return member.__get__(value)
    return _Safe(lambda *args, **kwargs: member(value, *args, **kwargs), name)


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
        steps = [(_COMPARE[type(op)], self.compile(c, depth)) for op, c in zip(node.ops, node.comparators,
                                                                                 strict=True)]

        def compare(frame: _Frame) -> bool:
            a = left(frame)
            for operator, right in steps:
                b = right(frame)
                frame.budget.charge(1 if isinstance(b, dict | set | frozenset) else max(_size(a), _size(b)))
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
        keywords = [(k.arg, self.compile(k.value, depth)) for k in node.keywords]

        def call(frame: _Frame) -> Any:
            target = function(frame)
            if not isinstance(target, _Safe):
                raise ScriptRejected(f"表达式不能调用 {type(target).__name__} (not callable here)")
            frame.budget.charge()
            result = target(*(a(frame) for a in args), **{name: v(frame) for name, v in keywords})
            frame.budget.charge(_size(result))
            return result

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
        return lambda frame: {item(frame) for item in items}

    def _Dict(self, node: ast.Dict, depth: int) -> Node:
        if any(k is None for k in node.keys):
            raise self.refuse(node, "**展开")
        pairs = [(self.compile(k, depth), self.compile(v, depth)) for k, v in zip(node.keys, node.values,  # type: ignore[arg-type]
                                                                                   strict=True)]
        return lambda frame: {k(frame): v(frame) for k, v in pairs}

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
            if conversion is not None:
                result = conversion(result)
            if spec and not (isinstance(result, date) and len(spec) <= 64 and "%" in spec
                             or FORMAT_SPEC.match(spec)):
                raise ScriptRejected(f"不支持的格式说明 {spec!r}")
            text = format(result, spec)
            _check_items(len(text))
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
        return lambda frame: set(_materialise(element(inner) for inner in loops(frame)))

    def _DictComp(self, node: ast.DictComp, depth: int) -> Node:
        loops = self._loops(node.generators, depth)
        key, value = self.compile(node.key, depth), self.compile(node.value, depth)
        return lambda frame: dict(_materialise((key(inner), value(inner)) for inner in loops(frame)))


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
        try:
            return _storable(self._root(frame))
        except RecursionError:
            raise ScriptRejected("表达式所处理的数据嵌套过深") from None
        except MemoryError:
            raise ScriptRejected("表达式超出内存上限") from None
        except OverflowError as error:
            raise ScriptRejected(f"数值超出范围：{error}") from None


_LAZY = (type(x for x in ()), range, type({}.keys()), type({}.values()), type({}.items()))
_DATA = (str, int, float, bool, type(None), date, datetime, timedelta)


def _storable(value: Any) -> Any:
    """The value an expression hands back: case data only (it may be stored with the case). A lazy
    sequence becomes a list; a function or any other object is refused."""
    if isinstance(value, _LAZY):
        value = _materialise(value)
    pending = [value]
    seen = 0
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
    return {**SAFE_FUNCTIONS, **{name: _Safe(function, name) for name, function in functions.items()}}
