"""The operator registry: the only way a BPMN service task reaches domain code.

A service task names an operator (``declaration.validate``); ``services/`` modules register a
function under that name at start-up. The function receives an :class:`OperatorContext` (the
unit of work's session, the instance, the task data) and the evaluated parameters, and returns
a JSON-serialisable result that the engine stores in the task's result variable.

Each operator declares an ``example`` of what a successful call returns: it documents the result's
shape for designers (gateways read it) and is what a faked operator returns when every process's
happy path is run without its domain (``tests/processes/test_every_process.py``).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session


@dataclass
class OperatorContext:
    session: Session
    instance_id: int
    business_key: str
    region_code: str
    data: dict[str, Any]
    actor: str
    after_commit: Callable[[Callable[[], None]], None] = field(default=lambda _callback: None)
    # what the step does to another case, run in the same transaction once this case's action is done
    # (engine.db.UnitOfWork.before_commit): an operator never drives another case from inside a step
    before_commit: Callable[[Callable[[Any], object]], None] = field(default=lambda _callback: None)


Operator = Callable[..., Any]


class OperatorError(Exception):
    """Raised by an operator for a business failure that should become an incident."""


class OperatorRegistry:
    def __init__(self) -> None:
        self._operators: dict[str, Operator] = {}
        self._examples: dict[str, Any] = {}

    def register(self, name: str, function: Operator | None = None, *,
                 example: Any = None) -> Callable[[Operator], Operator] | Operator:
        """Register ``function`` under ``name`` with an example of its result; usable as a decorator."""

        def add(func: Operator) -> Operator:
            if name in self._operators and self._operators[name] is not func:
                raise ValueError(f"operator {name!r} is registered twice")
            self._operators[name] = func
            self._examples[name] = example
            return func

        return add(function) if function is not None else add

    def example(self, name: str) -> Any:
        """What a successful call of the operator returns, as it declared (None: nothing)."""
        return self._examples[name]

    def function(self, name: str) -> Operator:
        """The registered function (the designer studio lists its parameters)."""
        return self._operators[name]

    def __contains__(self, name: str) -> bool:
        return name in self._operators

    def names(self) -> list[str]:
        return sorted(self._operators)

    def call(self, name: str, context: OperatorContext, params: dict[str, Any]) -> Any:
        return self._operators[name](context, **params)
