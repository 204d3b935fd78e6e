"""Where designer-written code runs: SpiffWorkflow's script environment, rebuilt on two isolations.

- **Expressions** (gateway and loop conditions, guards, DMN entries, timer and multi-instance
  expressions, service-task parameters, message payloads) are evaluated in this process by the
  allow-list interpreter of ``engine.expressions``: microseconds each, with every operation's cost
  checked before it runs and a time limit.
- **Scripts** (script tasks, pre- and post-scripts) run in ``engine.sandbox``: a fresh, locked-down
  child process per script, given only the variables the script names, whose answer is data.

Neither relies on a list of forbidden names. Deploy-time checks (``check_expression``,
``check_script``) only give designers an early, clear message; they are not the isolation.
"""
from __future__ import annotations

import ast
import importlib
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from engine.expressions import MAX_SOURCE, ScriptRejected, compile_expression, helpers
from engine.sandbox import ALLOWED_IMPORTS, MAX_SCRIPT, Limits, Sandbox, script_names

__all__ = ["RestrictedEnvironment", "ScriptRejected", "ServiceScriptEngine", "check_expression", "check_script"]


def check_expression(source: str) -> None:
    """Raise ScriptRejected (with a message in words) unless ``source`` is an allowed expression."""
    try:
        compile_expression(source.strip())
    except SyntaxError as error:
        raise ScriptRejected(f"语法错误 (syntax error): {error.msg}") from None
    if len(source) > MAX_SOURCE:
        raise ScriptRejected(f"表达式超过 {MAX_SOURCE:,} 个字符")


def check_script(source: str) -> None:
    """Raise ScriptRejected unless ``source`` parses as a script the sandbox will accept."""
    if len(source) > MAX_SCRIPT:
        raise ScriptRejected(f"脚本超过 {MAX_SCRIPT:,} 个字符")
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        raise ScriptRejected(f"语法错误 (syntax error): {error.msg}, line {error.lineno}") from None
    except (RecursionError, MemoryError, ValueError):
        raise ScriptRejected("脚本嵌套过深或含有不允许的字符") from None
    for node in ast.walk(tree):
        modules = [a.name for a in node.names] if isinstance(node, ast.Import) else \
            [node.module or "."] if isinstance(node, ast.ImportFrom) and not node.level else \
            ["."] if isinstance(node, ast.ImportFrom) else []
        refused = [m for m in modules if m not in ALLOWED_IMPORTS]
        if refused and isinstance(node, ast.Import | ast.ImportFrom):
            raise ScriptRejected(f"脚本只能 import {', '.join(ALLOWED_IMPORTS)}，不能 import {refused[0]}"
                                 f"（第 {node.lineno} 行）")


def _resolve(spec: str) -> Callable[..., Any]:
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


class RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    """SpiffWorkflow's script environment: expressions through the interpreter, scripts through
    the sandbox. ``functions`` name the deployment's helpers as ``"module:function"``, imported
    here for expressions and by the sandbox's fork server for scripts.

    Each expression or script has ``time_limit``; all of them together, in one user action or one
    engine run (``action``), have ``action_limit`` — a process cannot keep a request (and its
    instance's lock) busy by evaluating many expressions or running many scripts, each within its
    own limit (a DMN table of thousands of rules, a loop of script tasks, a thousand timers)."""

    def __init__(self, time_limit: float = 2.0, functions: Mapping[str, str] | None = None,
                 sandbox: Sandbox | None = None, action_limit: float | None = None):
        functions = dict(functions or {})
        super().__init__(helpers({name: _resolve(spec) for name, spec in functions.items()}))
        self.time_limit = time_limit
        self.action_limit = action_limit if action_limit is not None else 5 * time_limit
        self.sandbox = sandbox or Sandbox(functions, Limits(seconds=time_limit))
        self._action = threading.local()  # .left: seconds designer code may still use in this thread's action

    @contextmanager
    def action(self) -> Iterator[None]:
        """One user action or engine run: designer code evaluated inside shares ``action_limit``.
        Nested calls join the action already under way."""
        if getattr(self._action, "left", None) is not None:
            yield
            return
        self._action.left = self.action_limit
        try:
            yield
        finally:
            self._action.left = None

    def _action_spent(self) -> ScriptRejected:
        return ScriptRejected(f"本次办理中流程的脚本和表达式累计运行超过 {self.action_limit:g} 秒，已停止"
                              "（流程可能存在循环或过多的规则）")

    def _seconds(self) -> float:
        """The time the next piece of designer code may take: its own limit, or what is left of the action's."""
        left = getattr(self._action, "left", None)
        if left is None:
            return self.time_limit
        if left <= 0.01:
            raise self._action_spent()
        return min(self.time_limit, left)

    @contextmanager
    def _timed(self) -> Iterator[float]:
        """Run one piece of designer code within ``_seconds()``, and count its time against the action;
        stopped for want of the action's time, it says so (not that it overran its own limit)."""
        seconds, started = self._seconds(), time.monotonic()
        try:
            yield seconds
        except ScriptRejected:
            if seconds < self.time_limit and time.monotonic() - started >= seconds * 0.9:
                raise self._action_spent() from None
            raise
        finally:
            left = getattr(self._action, "left", None)
            if left is not None:
                self._action.left = left - (time.monotonic() - started)

    def evaluate(self, expression, context, external_context=None):
        variables = [external_context or {}, context]
        with self._timed() as seconds:
            return compile_expression(expression).evaluate(variables, self.globals, seconds)

    def execute(self, script, context, external_context=None):
        external = external_context or {}
        try:
            names = script_names(script)
        except SyntaxError as error:
            raise ScriptRejected(f"语法错误 (syntax error): {error.msg}, line {error.lineno}") from None
        given = {name: context[name] if name in context else external[name]
                 for name in names if name in context or name in external}
        with self._timed() as seconds:
            values, deleted = self.sandbox.run(script, given, seconds)
        for name, value in values.items():
            if name not in external or name in context:
                context[name] = value
        for name in deleted:
            context.pop(name, None)
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
        compile_expression(expression)

    def call_service(self, task, **kwargs):
        return self._call_operator(task, kwargs["operation_name"], kwargs["operation_params"])
