"""Parsed specs, built once per deployed version and cached in memory by definition id
(a definition's XML and pinned dependencies never change, so the cache never goes stale)."""
from __future__ import annotations

import threading

from sqlalchemy.orm import Session

from engine.definitions import build_parser, definition_closure
from engine.models import ProcessDefinition


class SpecCache:
    def __init__(self) -> None:
        self._specs: dict[int, tuple] = {}
        self._lock = threading.Lock()

    def get(self, session: Session, definition_id: int) -> tuple:
        cached = self._specs.get(definition_id)
        if cached is not None:
            return cached
        with self._lock:
            cached = self._specs.get(definition_id)
            if cached is None:
                definition = session.get(ProcessDefinition, definition_id)
                documents = [(d.xml.encode("utf-8"), d.filename) for d in definition_closure(session, definition)]
                parser = build_parser(documents)
                cached = (parser.get_spec(definition.key), parser.get_subprocess_specs(definition.key))
                self._specs[definition_id] = cached
        return cached
