"""Driver-level writing for the ledger's bulk path (``core.post_many``): rows as tuples, many
rows per statement on SQLite, ``COPY`` for a big load on PostgreSQL, transaction ids reserved up
front, a bigger page cache for a big load. Nothing here checks money: ``core`` has checked every
entry before it calls these.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import contextmanager
from datetime import date
from functools import lru_cache

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from .models import transactions


def date_param(session: Session):
    """How a date is passed to the driver: SQLAlchemy stores SQLite dates as ISO text.
    (Cached: a load has few distinct dates and many rows.)"""
    if session.get_bind().dialect.name == "sqlite":
        return lru_cache(maxsize=4096)(date.isoformat)
    return lambda value: value


TX_COLUMNS = ("id", "key", "booked_on", "value_on", "description", "actor", "reverses_id")
POSTING_COLUMNS = ("transaction_id", "account_id", "amount_cents", "booked_on")


def executemany(session: Session, table: str, columns: tuple[str, ...], rows: list[tuple],
                 *, on_conflict_key: bool = False) -> None:
    if not rows:
        return
    connection = session.connection()
    mark = "?" if connection.dialect.paramstyle == "qmark" else "%s"
    sql = (f"INSERT INTO {table} ({', '.join(columns)}) "
           f"VALUES ({', '.join([mark] * len(columns))})")
    if on_conflict_key:
        sql += " ON CONFLICT (key) DO NOTHING"
    connection.exec_driver_sql(sql, rows)


#: A bulk load of at least this many postings runs with SQLite's page cache at BIG_CACHE_KIB
#: (its default, 2 MiB, makes the inserts into the postings' account index read the same pages
#: again and again: about a tenth more CPU at 100,000 transactions); the size is put back after.
BIG_LOAD_POSTINGS = 50_000
BIG_CACHE_KIB = 65_536


@contextmanager
def page_cache_for(session: Session, n_postings: int):
    connection = session.connection()
    if n_postings < BIG_LOAD_POSTINGS or connection.dialect.name != "sqlite":
        yield
        return
    before = connection.exec_driver_sql("PRAGMA cache_size").scalar_one()
    if before < 0 and -before >= BIG_CACHE_KIB:
        yield
        return
    connection.exec_driver_sql(f"PRAGMA cache_size = -{BIG_CACHE_KIB}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size = {int(before)}")


#: Rows per INSERT statement of a bulk load on SQLite (well under its 32,766 parameters).
ROWS_PER_INSERT = 200
#: From this many rows PostgreSQL is given them with ``COPY`` (about ten times less time than
#: the pipelined executemany at 200,000 postings); fewer go through the executemany.
COPY_ROWS = 1_000


def insert_flat(session: Session, table: str, columns: tuple[str, ...], flat: list,
                 *, on_conflict_key: bool = False) -> None:
    """Insert rows given as one flat list of values, ``len(columns)`` per row.

    SQLite: many rows per INSERT statement (one statement step per 200 rows rather than per
    row: about a third less time in the database at a load's size). PostgreSQL: one
    driver-level executemany, which psycopg pipelines."""
    if not flat:
        return
    connection = session.connection()
    width = len(columns)
    conflict = " ON CONFLICT (key) DO NOTHING" if on_conflict_key else ""
    head = f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
    if connection.dialect.paramstyle != "qmark":
        if len(flat) >= COPY_ROWS * width and connection.dialect.name == "postgresql":
            copy_flat(connection, table, columns, flat, on_conflict_key=on_conflict_key)
            return
        one = "(" + ", ".join(["%s"] * width) + ")"
        connection.exec_driver_sql(
            head + one + conflict, [tuple(flat[i:i + width]) for i in range(0, len(flat), width)])
        return
    one = "(" + ",".join("?" * width) + ")"
    step = ROWS_PER_INSERT * width
    whole = len(flat) // step * step
    if whole:
        connection.exec_driver_sql(head + ",".join([one] * ROWS_PER_INSERT) + conflict,
                                   [tuple(flat[i:i + step]) for i in range(0, whole, step)])
    rest = len(flat) - whole
    if rest:
        connection.exec_driver_sql(head + ",".join([one] * (rest // width)) + conflict,
                                   [tuple(flat[whole:])])


def copy_flat(connection, table: str, columns: tuple[str, ...], flat: list,
              *, on_conflict_key: bool = False) -> None:
    """PostgreSQL: the rows of ``flat`` (``len(columns)`` values a row) with ``COPY``."""
    copy_rows(connection, table, columns, zip(*[iter(flat)] * len(columns)),
              on_conflict_key=on_conflict_key)


def copy_rows(connection, table: str, columns: tuple[str, ...], rows: Iterable[tuple],
              *, on_conflict_key: bool = False) -> None:
    """PostgreSQL: insert ``rows`` with ``COPY``, in the connection's transaction.

    ``COPY`` cannot skip a row whose key exists; with ``on_conflict_key`` the rows go into a
    temporary table first and from there with ``INSERT … ON CONFLICT (key) DO NOTHING``, so
    the result is the executemany's exactly. The driver's errors are raised as SQLAlchemy's
    (a unique key refused is an ``IntegrityError``, as from any other statement)."""
    import psycopg
    from sqlalchemy.exc import DBAPIError

    names = ", ".join(columns)
    target = f"{table}_load" if on_conflict_key else table
    statement = f"COPY {target} ({names}) FROM STDIN"
    try:
        with connection.connection.dbapi_connection.cursor() as cursor:
            if on_conflict_key:
                cursor.execute(f"CREATE TEMPORARY TABLE {target} "
                               f"(LIKE {table} INCLUDING DEFAULTS) ON COMMIT DROP")
            with cursor.copy(statement) as copy:
                write = copy.write_row
                for row in rows:
                    write(row)
            if on_conflict_key:
                statement = (f"INSERT INTO {table} ({names}) SELECT {names} FROM {target} "
                             "ON CONFLICT (key) DO NOTHING")
                cursor.execute(statement)
                cursor.execute(f"DROP TABLE {target}")
    except psycopg.Error as error:
        raise DBAPIError.instance(statement, None, error, psycopg.Error,
                                  dialect=connection.dialect) from error


#: From this many accounts PostgreSQL adds a load's balance changes in one ``UPDATE … FROM
#: unnest(…)`` (one statement, not one per account: a fifth of a 100,000-line import).
ARRAY_UPDATE_ACCOUNTS = 1_000


def add_to_balances(session: Session, deltas: dict[int, int]) -> bool:
    """PostgreSQL, many accounts: add each delta to its account's stored balance in one
    statement; False (nothing done) otherwise, for the caller's per-account update. Every
    account must be there (they are locked by the caller): a missing one raises."""
    if len(deltas) < ARRAY_UPDATE_ACCOUNTS or session.get_bind().dialect.name != "postgresql":
        return False
    ids, changes = list(deltas), list(deltas.values())
    updated = session.execute(text(
        "UPDATE ledger_accounts AS a SET balance_cents = a.balance_cents + d.delta "
        "FROM unnest(CAST(:ids AS integer[]), CAST(:deltas AS bigint[])) AS d(id, delta) "
        "WHERE a.id = d.id"), {"ids": ids, "deltas": changes}).rowcount
    if updated != len(ids):
        raise RuntimeError(f"balances of {len(ids)} accounts to update, {updated} updated")
    return True


def count_ids(session: Session, ids: list[int]) -> int:
    """How many of the given transaction ids exist (SQLite's are one consecutive range)."""
    if session.get_bind().dialect.name == "sqlite":
        return session.execute(
            select(func.count()).select_from(transactions)
            .where(transactions.c.id.between(ids[0], ids[-1]))
        ).scalar_one()
    return session.execute(
        text("SELECT count(*) FROM ledger_transactions WHERE id = ANY(:ids)"), {"ids": ids}
    ).scalar_one()


def allocate_transaction_ids(session: Session, count: int) -> list[int]:
    """Reserve ``count`` transaction ids for a bulk insert.

    SQLite: the IMMEDIATE transaction already excludes other writers, so max(id) + 1 onwards is
    ours. PostgreSQL: draw the ids from the table's own sequence, which is safe with concurrent
    writers (the ids need not be consecutive).
    """
    if session.get_bind().dialect.name == "postgresql":
        seq = session.execute(
            text("SELECT pg_get_serial_sequence('ledger_transactions', 'id')")
        ).scalar_one()
        return list(
            session.execute(
                text("SELECT nextval(CAST(:seq AS regclass)) FROM generate_series(1, :n)"),
                {"seq": seq, "n": count},
            ).scalars()
        )
    current = session.execute(select(func.coalesce(func.max(transactions.c.id), 0))).scalar_one()
    return list(range(int(current) + 1, int(current) + 1 + count))
