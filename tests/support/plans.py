"""Query plans of the statements the services really issue, over tables filled to a realistic size.

`fill` adds rows to a table from `generate_series` inside the caller's transaction (columns get a
value of their type unless the caller gives an expression of `g`, the row number); `Recorder`
captures every statement a repository function sends through SQLAlchemy, with its parameters; and
`sequential_scans` explains one and names the filled tables it would read from end to end.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection

# A value of each column type, from the row number g; uuids are unique, times spread over days.
_BY_TYPE = {
    "uuid": "gen_random_uuid()",
    "text": "'v' || g",
    "bigint": "g",
    "integer": "g",
    "smallint": "(g % 100)",
    "boolean": "false",
    "jsonb": "'{}'::jsonb",
    "bytea": "'\\x00'::bytea",
    "date": "current_date - (g % 400)",
    "timestamp with time zone": "now() - make_interval(mins => g % 50000)",
    "ARRAY": "'{}'",
}


async def fill(conn: AsyncConnection, table: str, rows: int, **values: str) -> None:
    """Add `rows` rows to `schema.table`; `values` maps a column to an SQL expression of g."""
    schema, name = table.split(".")
    columns = (
        await conn.exec_driver_sql(
            "SELECT column_name, data_type, is_identity FROM information_schema.columns"
            " WHERE table_schema = $1 AND table_name = $2 ORDER BY ordinal_position",
            (schema, name),
        )
    ).all()
    if not columns:
        raise ValueError(f"no table {table}")
    unknown = set(values) - {c.column_name for c in columns}
    if unknown:
        raise ValueError(f"{table} has no columns {sorted(unknown)}")
    names, exprs = [], []
    for column in columns:
        if column.is_identity == "YES" and column.column_name not in values:
            continue
        names.append(f'"{column.column_name}"')
        exprs.append(values.get(column.column_name) or _BY_TYPE[column.data_type])
    await conn.exec_driver_sql(
        f"INSERT INTO {table} ({', '.join(names)}) "
        f"SELECT {', '.join(exprs)} FROM generate_series(1, {int(rows)}) AS g"
    )
    await conn.exec_driver_sql(f"ANALYZE {table}")


@dataclass
class Recorder:
    """The statements sent while recording, as (SQL, parameters) in the driver's own form."""

    statements: list[tuple[str, Any]] = field(default_factory=list)
    on: bool = False

    def __call__(
        self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
    ) -> None:
        if self.on:
            # A statement run for many rows is explained with its first row's parameters.
            self.statements.append((statement, parameters[0] if executemany else parameters))

    @contextmanager
    def recording(self) -> Iterator[list[tuple[str, Any]]]:
        self.statements = []
        self.on = True
        try:
            yield self.statements
        finally:
            self.on = False


@contextmanager
def recorder(conn: AsyncConnection) -> Iterator[Recorder]:
    rec = Recorder()
    engine = conn.sync_engine
    event.listen(engine, "before_cursor_execute", rec)
    try:
        yield rec
    finally:
        event.remove(engine, "before_cursor_execute", rec)


def _nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", ()):
        yield from _nodes(child)


async def sequential_scans(
    conn: AsyncConnection, statement: str, parameters: Any, filled: set[str]
) -> tuple[list[str], str]:
    """The filled tables (schema.name) that the plan of `statement` scans sequentially, and the plan."""
    rows = (await conn.exec_driver_sql("EXPLAIN (FORMAT JSON, VERBOSE) " + statement, parameters)).all()
    document = rows[0][0]
    plan = (orjson.loads(document) if isinstance(document, str | bytes) else document)[0]["Plan"]
    scanned = [
        f"{node.get('Schema')}.{node['Relation Name']}"
        for node in _nodes(plan)
        if node["Node Type"] == "Seq Scan" and f"{node.get('Schema')}.{node['Relation Name']}" in filled
    ]
    return scanned, orjson.dumps(plan, option=orjson.OPT_INDENT_2).decode()
