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
from collections.abc import Callable, Mapping
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
        if refused:
            raise ScriptRejected(f"脚本只能 import {', '.join(ALLOWED_IMPORTS)}，不能 import {refused[0]}"
                                 f"（第 {node.lineno} 行）")


def _resolve(spec: str) -> Callable[..., Any]:
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


class RestrictedEnvironment(BasePythonScriptEngineEnvironment):
    """SpiffWorkflow's script environment: expressions through the interpreter, scripts through
    the sandbox. ``functions`` name the deployment's helpers as ``"module:function"``, imported
    here for expressions and by the sandbox's fork server for scripts."""

    def __init__(self, time_limit: float = 2.0, functions: Mapping[str, str] | None = None,
                 sandbox: Sandbox | None = None):
        functions = dict(functions or {})
        super().__init__(helpers({name: _resolve(spec) for name, spec in functions.items()}))
        self.time_limit = time_limit
        self.sandbox = sandbox or Sandbox(functions, Limits(seconds=time_limit))

    def evaluate(self, expression, context, external_context=None):
        variables = [external_context or {}, context]
        return compile_expression(expression).evaluate(variables, self.globals, self.time_limit)

    def execute(self, script, context, external_context=None):
        external = external_context or {}
        try:
            names = script_names(script)
        except SyntaxError as error:
            raise ScriptRejected(f"语法错误 (syntax error): {error.msg}, line {error.lineno}") from None
        given = {name: context[name] if name in context else external[name]
                 for name in names if name in context or name in external}
        values, deleted = self.sandbox.run(script, given, self.time_limit)
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
