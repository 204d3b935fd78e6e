"""A second runtime over the test database whose declaration flow hands batches of more than two
persons to a background job (the session runtime validates up to 500 persons inline)."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

from services.bootstrap import Runtime, Settings, bootstrap
from services.special_work import declarations
from tests.conftest import person

INLINE_LIMIT = 2


@pytest.fixture(scope="session")
def background(runtime) -> Iterator[Runtime]:
    rt = bootstrap(Settings(database_url=runtime.settings.database_url, script_time_limit=0.5,
                            inline_validation_limit=INLINE_LIMIT, job_lease_seconds=1))
    yield rt
    rt.db.dispose()


def submit_batch(rt: Runtime, actors, persons: list[dict]) -> tuple[int, int]:
    with rt.unit_of_work() as uow:
        batch = declarations.submit_declaration(uow, rt.engine, actors["enterprise"], "110101000001", "first",
                                                [declarations.PersonInput(**p) for p in persons])
        uow.commit()
        return batch.id, batch.instance_id


def persons_with_one_error(count: int, first_serial: int = 100) -> list[dict]:
    """``count`` valid persons, except the second whose ID number has a wrong check digit."""
    result = [person(first_serial + n) for n in range(count)]
    result[1] = person(first_serial + 1, id_number="110101197503010000")
    return result
