"""Where a benchmark's database lives: a SQLite file, or a fresh schema on PostgreSQL.

``--db postgresql+psycopg://USER@HOST:PORT/DATABASE`` makes a schema of its own in that
database (``bench_`` and a random suffix), hands out a URL whose connections see only that
schema (``search_path``), and drops the schema with everything in it afterwards. Give a
database of your own (``CREATE DATABASE bench``), never the public schema of a shared one.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import create_engine, text


def schema_url(url: str, schema: str) -> str:
    """``url`` with every connection's search path set to ``schema``."""
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options={quote(f'-csearch_path={schema}')}"


@contextmanager
def database(url: str | None, sqlite_file: Path, *, keep: bool = False) -> Iterator[str]:
    """The URL to work on: ``sqlite_file`` when ``url`` is None, else a new PostgreSQL schema
    (dropped when the block ends, unless ``keep``)."""
    if not url:
        yield f"sqlite:///{sqlite_file}"
        return
    if not url.startswith("postgresql"):
        raise SystemExit(f"--db takes a PostgreSQL URL (SQLite is the default): {url}")
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield schema_url(url, schema)
    finally:
        if not keep:
            with admin.connect() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def backend(url: str) -> str:
    return "postgresql" if url.startswith("postgresql") else "sqlite"
