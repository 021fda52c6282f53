"""For every table, PostgreSQL accepts exactly the rows the spec's oracle accepts.

Refused rows fail with the oracle's error class (and constraint or column), and
leave the table as it was; an example run in one transaction leaves nothing of
itself when one of its rows is refused.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.property.conftest import Seeded
from tests.property.harness import run_example
from tests.property.oracle import TABLES
from tests.property.strategies import examples


@pytest.mark.parametrize("table", list(TABLES))
@given(data=st.data())
async def test_database_accepts_exactly_what_the_spec_accepts(
    seeded: Seeded, table: str, data: st.DataObject
) -> None:
    example = data.draw(examples(TABLES[table]), label="example")
    await run_example(seeded.conn, seeded.seed, table, example)
