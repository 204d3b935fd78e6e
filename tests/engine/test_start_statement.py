"""The start's INSERT is sent to PostgreSQL as compiled SQL, which fills in no Python-side column
default: every instance column with a default must be given by the start itself."""
from __future__ import annotations

from engine import writes
from engine.models import ProcessInstance


def test_the_start_names_every_instance_column_that_has_a_default():
    table = ProcessInstance.__table__
    defaulted = {column.key for column in table.c if column.default is not None and not column.primary_key}
    given = set(writes._STARTED_WITH) | set(writes._STARTED_KEYS) | {"ended_at"}
    assert defaulted - given == set()
