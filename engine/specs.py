"""Parsed specs, built once per deployed version and cached in memory by definition id
(a definition's XML and pinned dependencies never change, so the cache never goes stale)."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from engine.definitions import build_parser, definition_closure
from engine.forms import FormDefinition, parse_form
from engine.models import ProcessDefinition


@dataclass(frozen=True)
class DeployedProcess:
    """What the runtime needs of one deployed version, besides its row: the parsed spec and the
    facts a start checks (so that starting an instance never reads the definition row again)."""

    name: str
    startable_by: tuple[str, ...]
    spec: Any
    subprocess_specs: dict[str, Any]
    start_form: str | None = None  # formKey of its (none) start event: what the generic start accepts
    forms: dict[str, FormDefinition] = field(default_factory=dict)  # by key, of it and what it calls


class SpecCache:
    def __init__(self) -> None:
        self._specs: dict[int, DeployedProcess] = {}
        self._lock = threading.Lock()

    def get(self, session: Session, definition_id: int) -> DeployedProcess:
        cached = self._specs.get(definition_id)
        if cached is not None:
            return cached
        with self._lock:
            cached = self._specs.get(definition_id)
            if cached is None:
                definition = session.get(ProcessDefinition, definition_id)
                documents = [(d.xml.encode("utf-8"), d.filename) for d in definition_closure(session, definition)]
                parser = build_parser(documents)
                spec = parser.get_spec(definition.key)
                forms: dict[str, FormDefinition] = {}
                for version in definition_closure(session, definition):
                    for key, document in (version.forms or {}).items():
                        forms.setdefault(key, parse_form(key, document))
                cached = DeployedProcess(definition.name, tuple(definition.startable_by or ()), spec,
                                         parser.get_subprocess_specs(definition.key), _start_form(spec), forms)
                self._specs[definition_id] = cached
        return cached


def _start_form(spec: Any) -> str | None:
    for task_spec in spec.task_specs.values():
        if type(task_spec).__name__ == "StartEvent" \
                and type(getattr(task_spec, "event_definition", None)).__name__ == "NoneEventDefinition":
            return (getattr(task_spec, "extensions", None) or {}).get("properties", {}).get("formKey") or None
    return None
