"""Where the data lives and how the schema gets there.

- ``--db URL`` or ``VALITYSTILI_DB``; a plain path means SQLite; nothing means one SQLite file
  in the user's data directory. ``postgresql://`` URLs use psycopg 3.
- The schema comes only from the Alembic migrations in ``valitystili/migrations``
  (``db init`` / ``db upgrade``). A fresh SQLite file is initialised on first use; a PostgreSQL
  database is initialised explicitly by its administrator.
- A SQLite file holds identity codes in clear: it is private to its owner. A folder made for it
  is 0700; the CLI creates files 0600 (its umask) and takes group and world access away from an
  existing database file and its -wal/-shm files when it opens them (:func:`make_private`).
"""

from __future__ import annotations

import os
import stat
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

import ledger
from valitystili.base.errors import CannotRun

MIGRATIONS = Path(__file__).with_name("migrations")
PRIVATE_FOLDER_MODE = 0o700
SQLITE_COMPANIONS = ("", "-wal", "-shm", "-journal")


def default_path() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("valitystili", appauthor=False)) / "valitystili.store.db"


def resolve_url(value: str | None) -> str:
    """Turn ``--db``/``VALITYSTILI_DB`` (URL or plain path) into an SQLAlchemy URL."""
    value = value or os.environ.get("VALITYSTILI_DB") or ""
    if not value:
        value = str(default_path())
    if "://" not in value:
        path = Path(value).expanduser()
        if not path.parent.exists():
            path.parent.mkdir(mode=PRIVATE_FOLDER_MODE, parents=True)
        return f"sqlite:///{path}"
    if value.startswith("postgresql://") or value.startswith("postgres://"):
        value = "postgresql+psycopg://" + value.split("://", 1)[1]
    return value


def make_private(url: str) -> None:
    """Take group and world access away from a SQLite database file and its companions."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database \
            or parsed.database == ":memory:" or parsed.database.startswith("file:"):
        return
    for suffix in SQLITE_COMPANIONS:
        path = Path(parsed.database + suffix)
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
            if mode & 0o077 and path.is_file():
                path.chmod(mode & 0o700)
        except OSError:  # missing, or someone else's file: nothing we may change
            continue


def make_engine(url: str) -> Engine:
    kwargs = {}
    if make_url(url).get_backend_name() == "postgresql":
        kwargs["pool_pre_ping"] = False
    return ledger.make_engine(url, **kwargs)


def alembic_config(connection=None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (creating it on an empty database)."""
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), revision)


def is_initialised(engine: Engine) -> bool:
    return inspect(engine).has_table("alembic_version") and current_revision(engine) is not None


def ensure_schema(engine: Engine) -> bool:
    """Check the schema is current. A fresh SQLite file is initialised here; returns True then."""
    if not is_initialised(engine):
        if engine.dialect.name == "sqlite":
            upgrade(engine)
            return True
        raise CannotRun("the database has no Välitystili schema: run `valitystili db init`")
    if current_revision(engine) != head_revision():
        raise CannotRun("the database schema is out of date: run `valitystili db upgrade`")
    return False


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]):
    """One unit of work: commit on success, roll back everything on any error."""
    session = factory()
    try:
        with session.begin():
            yield session
    finally:
        session.close()
