"""Reading by ``IN (...)`` lists of bounded length, and inserting many rows at once.

Rules of this module:

- A query never carries more than :data:`CHUNK` values in one ``IN`` list: SQLite limits the
  number of bound parameters, PostgreSQL plans a long list slowly, and bulk paths (an import of
  100 000 entries, a batch over 10 000 clients) ask about that many keys at once.
- Each chunk's rows are fetched before the next query runs, so a caller may write between the
  rows it reads.
- A chunk travels as ONE value, not one per member: a JSON array read with ``json_each`` on
  SQLite, an array compared with ``= ANY`` on PostgreSQL. An expanded ``IN (?, ?, …)`` costs
  SQLAlchemy a few microseconds per member at every execution, about a third of a second of a
  batch run over 10,000 clients. Members are integers or strings (ids, keys, ledger codes).
- On PostgreSQL a chunk of integers is written into the statement, as one array in its text
  form. A bound array is adapted by psycopg member by member (2 ms of CPU per 5,000 ids, twenty
  times the join), and a statement run five times is prepared: its generic plan knows nothing
  of the array, and where it filters rows with it (a table grown within the transaction, its
  statistics not yet) it compares each row with every member, where a plan of the values hashes
  them. A batch in parts counting the orders of its open obligations took 16 s so instead of
  0.5 s. A statement that differs every time is planned with its values every time.
- A ``range`` of numbers (step 1) is read in one query, ``BETWEEN`` its first and last: the
  batch reads a part of its clients by their numbers so, with no list at all (a part's open
  obligations took minutes by a bound array in the generic plan above).
- Column reads in bulk (:func:`select_in`, :func:`fetch_rows`, :func:`fetch_rows_of`) run on
  the session's connection: plain rows, without the ORM's per-row loading (half the cost of
  reading 20,000 rows). The session is flushed first, so they see everything the session has
  added.
- Many rows are inserted with :func:`insert_rows`. On SQLite it writes multi-row ``INSERT``
  statements: SQLite keeps a statement journal for every statement on a table with a trigger
  that may abort (``payment_orders`` has one), so one statement per row cost a batch of 20,000
  orders half a second more than the rows themselves. On PostgreSQL, from ``COPY_ROWS`` rows
  it uses ``COPY`` (``ledger.bulk_sql.copy_rows``): a national batch's 200,000 orders in 4.2 s
  against 7.6 s with the pipelined ``executemany`` that fewer rows still go in. Values pass through the columns' own bind processors and Python-side
  defaults, exactly as an ``executemany`` would send them.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    String,
    Table,
    any_,
    bindparam,
    cast,
    column,
    func,
    literal,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from ledger.bulk_sql import COPY_ROWS, copy_rows

#: Values per ``IN`` list.
CHUNK = 5000

#: Bound values per multi-row ``INSERT`` on SQLite (its limit is 32 766 since 3.32).
INSERT_VALUES = 20000

T = TypeVar("T")


def chunks(values: Sequence[T], size: int = CHUNK) -> Iterator[Sequence[T]]:
    """``values`` in consecutive slices of at most ``size``."""
    for start in range(0, len(values), size):
        yield values[start:start + size]


def member_of(session: Session, target: Any, values: Sequence[Any]) -> ColumnElement[bool]:
    """``target IN values`` as one bound value (see the module rules)."""
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        members = select(column("value")).select_from(func.json_each(json.dumps(list(values))))
        return target.in_(members.scalar_subquery())
    if dialect == "postgresql":
        if isinstance(target.type, Integer):
            members = bindparam(None, "{" + ",".join(map(str, values)) + "}", String,
                                literal_execute=True)
            return target == any_(cast(members, ARRAY(target.type)))
        return target == any_(literal(list(values), ARRAY(target.type)))
    return target.in_(values)


def fetch_rows(session: Session, query: Select) -> list[Any]:
    """The rows of a query of columns (see the module rules)."""
    session.flush()
    return session.connection().execute(query).all()


def fetch_rows_of(session: Session, query: Select, column: Any,
                  values: Sequence[Any] | None) -> list[Any]:
    """The rows of ``query``: all of them when ``values`` is None, else only those whose
    ``column`` is one of ``values`` (:func:`select_in`; a ``range``: between its ends)."""
    if values is None:
        return fetch_rows(session, query)
    return list(select_in(session, query, column, values))


def select_in(session: Session, query: Select, column: Any, values: Sequence[Any], *,
              size: int = CHUNK) -> Iterator[Any]:
    """The rows of ``query`` (columns, not entities) whose ``column`` is one of ``values``, one
    query per chunk (for a ``range``, one query)."""
    for condition in _among(session, column, values, size):
        yield from fetch_rows(session, query.where(condition))


def scalars_in(session: Session, query: Select, column: Any, values: Sequence[Any], *,
               size: int = CHUNK) -> Iterator[Any]:
    """As :func:`select_in`, the first column of each row (ORM objects for ``select(Model)``)."""
    for condition in _among(session, column, values, size):
        yield from session.execute(query.where(condition)).scalars().all()


def _among(session: Session, column: Any, values: Sequence[Any],
           size: int) -> Iterator[ColumnElement[bool]]:
    """The conditions, one per query, that ``column`` is one of ``values``."""
    if isinstance(values, range) and values.step == 1:
        if values:
            yield column.between(values.start, values.stop - 1)
        return
    for part in chunks(values, size):
        yield member_of(session, column, part)


def insert_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys) into ``table`` in the session's transaction."""
    if not rows:
        return
    connection = session.connection()
    dialect = connection.dialect
    names = list(rows[0])
    defaults = {column.name: column.default.arg for column in table.columns
                if column.name not in rows[0] and column.default is not None
                and column.default.is_scalar}
    missing_callable = any(column.default is not None and not column.default.is_scalar
                           and column.name not in rows[0] for column in table.columns)
    if missing_callable or any(row.keys() != rows[0].keys() for row in rows):
        connection.execute(table.insert(), list(rows))
        return
    given = list(names)
    names += list(defaults)
    fixed = tuple(defaults.values())
    processors = [table.c[name].type._cached_bind_processor(dialect) for name in names]
    processed = [(at, process) for at, process in enumerate(processors) if process is not None]

    def values_of(row: dict[str, Any]) -> list[Any]:
        values = [row[name] for name in given]
        values += fixed
        for at, process in processed:
            if values[at] is not None:
                values[at] = process(values[at])
        return values

    if dialect.name == "postgresql" and len(rows) >= COPY_ROWS:
        copy_rows(connection, table.name, tuple(names), map(values_of, rows))
        return
    if dialect.name != "sqlite":
        connection.execute(table.insert(), list(rows))
        return
    quote = dialect.identifier_preparer.quote
    head = f"INSERT INTO {quote(table.name)} ({', '.join(quote(name) for name in names)}) VALUES "
    one = "(" + ", ".join("?" * len(names)) + ")"
    for part in chunks(rows, max(1, INSERT_VALUES // len(names))):
        flat: list[Any] = []
        for row in part:
            flat += values_of(row)
        connection.exec_driver_sql(head + ", ".join([one] * len(part)), tuple(flat))

