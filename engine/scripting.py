"""The restricted environment in which BPMN script tasks and conditions run.

Scripts are checked before they run (no ``import``, no name or attribute starting with an
underscore, no ``exec``/``eval``/``open``…) and run with a small whitelist of builtins, so they
can reach neither files nor the network. A wall-clock limit, enforced by a trace function on
the script's own frames, stops a script that loops forever; ``range`` is capped so that a
single builtin call cannot run for minutes without returning to Python code.
"""
from __future__ import annotations

import ast
import builtins
import copy
import datetime
import sys
import time
from typing import Any

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

SCRIPT_FILENAME = "<bpmn-script>"
MAX_RANGE = 1_000_000
FORBIDDEN_NAMES = frozenset(
    {"eval", "exec", "compile", "open", "input", "globals", "locals", "vars", "getattr", "setattr",
     "delattr", "breakpoint", "help", "memoryview", "type", "object", "super", "classmethod",
     "staticmethod", "property"}
)
SAFE_BUILTINS = {
    name: getattr(builtins, name)
    for name in (
        "abs", "all", "any", "bool", "dict", "divmod", "enumerate", "filter", "float", "format",
        "frozenset", "int", "isinstance", "len", "list", "map", "max", "min", "reversed",
        "round", "set", "sorted", "str", "sum", "tuple", "zip", "True", "False", "None",
        "ValueError", "KeyError", "Exception",
    )
}


class ScriptRejected(Exception):
    """A script or expression that is not allowed to run, or ran out of time."""


def _capped_range(*args: int) -> range:
    result = range(*args)
    if len(result) > MAX_RANGE:
        raise ScriptRejected(f"range() 超过 {MAX_RANGE} 个元素 (range larger than {MAX_RANGE})")
    return result


def check_source(source: str, mode: str = "exec") -> ast.AST:
    """Parse and vet a script; raise ScriptRejected with the reason."""
    try:
        tree = ast.parse(source, mode=mode)
    except SyntaxError as error:
        raise ScriptRejected(f"语法错误 (syntax error): {error.msg}, line {error.lineno}") from None
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            raise ScriptRejected("脚本不允许 import (imports are not allowed)")
        if isinstance(node, ast.Global | ast.Nonlocal | ast.AsyncFunctionDef | ast.Await | ast.ClassDef):
            raise ScriptRejected(f"脚本不允许使用 {type(node).__name__}")
        if isinstance(node, ast.Name) and (node.id.startswith("_") or node.id in FORBIDDEN_NAMES):
            raise ScriptRejected(f"脚本不允许使用名称 {node.id} (name not allowed)")
        if isinstance(node, ast.Attribute) and node.attr.startswith("_"):
            raise ScriptRejected(f"脚本不允许访问属性 {node.attr} (attribute not allowed)")
    return tree


class _Deadline:
    """Trace function that aborts the script's frames once the time limit has passed."""

    def __init__(self, seconds: float):
        self.until = time.monotonic() + seconds
        self.seconds = seconds

    def global_trace(self, frame, event, arg):
        if frame.f_code.co_filename == SCRIPT_FILENAME:
            self._check()
            return self.local_trace
        return None

    def local_trace(self, frame, event, arg):
        self._check()
        return self.local_trace

    def _check(self) -> None:
        if time.monotonic() > self.until:
            raise ScriptRejected(f"脚本运行超过 {self.seconds:g} 秒，已被终止 (script timed out)")


class RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    """A SpiffWorkflow script environment with vetted source, whitelisted builtins and a time limit."""

    def __init__(self, time_limit: float = 2.0, functions: dict[str, Any] | None = None):
        globals_ = {"__builtins__": {**SAFE_BUILTINS, "range": _capped_range},
                    "datetime": datetime, **(functions or {})}
        super().__init__(globals_)
        self.time_limit = time_limit
        self._compiled: dict[tuple[str, str], Any] = {}

    def _compile(self, source: str, mode: str):
        key = (source, mode)
        code = self._compiled.get(key)
        if code is None:
            code = compile(check_source(source, mode), SCRIPT_FILENAME, mode)
            self._compiled[key] = code
        return code

    def _run(self, code, namespace: dict[str, Any], mode: str):
        deadline = _Deadline(self.time_limit)
        previous = sys.gettrace()
        sys.settrace(deadline.global_trace)
        try:
            return eval(code, namespace) if mode == "eval" else exec(code, namespace)
        finally:
            sys.settrace(previous)

    def evaluate(self, expression, context, external_context=None):
        namespace = copy.copy(self.globals)
        namespace.update(external_context or {})
        namespace.update(context)
        return self._run(self._compile(expression, "eval"), namespace, "eval")

    def execute(self, script, context, external_context=None):
        namespace = copy.copy(self.globals)
        namespace.update(external_context or {})
        namespace.update(context)
        self._run(self._compile(script, "exec"), namespace, "exec")
        for key, value in namespace.items():
            if key in self.globals or key.startswith("_") or callable(value) or key in (external_context or {}):
                continue
            context[key] = value
        for key in [k for k in context if k not in namespace]:
            del context[key]
        return True

    def call_service(self, context, **kwargs):  # pragma: no cover - replaced by ServiceScriptEngine
        raise NotImplementedError


class ServiceScriptEngine(PythonScriptEngine):
    """Script engine that also dispatches service tasks to the operator registry.

    A fresh one is built per engine run so that operators see the current unit of work.
    """

    def __init__(self, environment: RestrictedEnvironment, call_operator):
        super().__init__(environment=environment)
        self._call_operator = call_operator

    def validate(self, expression):
        ast.parse(expression)  # SyntaxError first: SpiffWorkflow's DMN engine relies on it
        check_source(expression, "eval")

    def call_service(self, task, **kwargs):
        return self._call_operator(task, kwargs["operation_name"], kwargs["operation_params"])
