"""Where the data lives and how the schema gets there.

- ``--db URL`` or ``VALITYSTILI_DB``; a plain path means SQLite; nothing means one SQLite file
  in the user's data directory. ``postgresql://`` URLs use psycopg 3.
- The schema comes only from the Alembic migrations in ``valitystili/store/migrations``
  (``db init`` / ``db upgrade``). **Only ``db init`` creates a ledger** (the SQLite file, its
  folder, or the schema in an empty PostgreSQL database): every other command on a database
  that holds none refuses with "no ledger at PATH (run `valitystili db init`)" and exit 3, so a
  mistyped ``--db`` never starts a new, empty ledger that looks clean (DESIGN §8).
- Every command checks that the schema is current without loading Alembic (a fifth of a second
  of every command's start): the database's revision is read from ``alembic_version`` and the
  newest migration's from the migration files' ``revision`` lines. Alembic is loaded only to
  migrate, and to report an odd state (several heads) in its own words.
- A SQLite file holds identity codes in clear: it is private to its owner. A folder made for it
  is 0700; the CLI creates files 0600 (its umask) and takes group and world access away from an
  existing database file and its -wal/-shm files when it opens them (:func:`make_private`).
- **Nobody waits for ever.** A command waits for another user's lock at most the setting
  ``lock_timeout_seconds`` (read from the ledger when a connection opens): PostgreSQL's
  ``lock_timeout`` for the connection, SQLite's busy timeout. Past it the command stops with
  one line, "another user is working on the ledger; gave up after 30 s (setting
  lock_timeout_seconds)", and exit 3 (:func:`lock_waits`); its unit of work is rolled
  back, so nothing is written.
"""

from __future__ import annotations

import os
import re
import stat
import weakref
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import event, inspect, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

import ledger
from valitystili.base.errors import CannotRun
from valitystili.base.i18n import _

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
#: A migration file's ``revision = "0006"`` and ``down_revision = "0005"`` (or ``None``) lines,
#: with or without a type annotation.
_REVISION_LINE = re.compile(
    r"""^(revision|down_revision)\s*(?::[^=\n]*)?=\s*(?:["']([^"'\n]+)["']|None)\s*$""",
    re.MULTILINE)
PRIVATE_FOLDER_MODE = 0o700
SQLITE_COMPANIONS = ("", "-wal", "-shm", "-journal")
LOCK_TIMEOUT_SETTING = "lock_timeout_seconds"
#: SQLite's "no limit" for a busy timeout of 0 s (its largest wait, in milliseconds).
SQLITE_LONGEST_WAIT_MS = 2**31 - 1
PG_LOCK_NOT_AVAILABLE = "55P03"
SQLITE_BUSY = 5
#: The lock timeout each engine's connections were given, for the message when it is reached.
_lock_timeouts: weakref.WeakKeyDictionary[Engine, int] = weakref.WeakKeyDictionary()


def default_path() -> Path:
    from platformdirs import user_data_dir

    return Path(user_data_dir("valitystili", appauthor=False)) / "valitystili.store.db"


def resolve_url(value: str | None) -> str:
    """Turn ``--db``/``VALITYSTILI_DB`` (URL or plain path) into an SQLAlchemy URL.

    Nothing is created here: ``db init`` makes the folder (:func:`make_folder`)."""
    value = value or os.environ.get("VALITYSTILI_DB") or ""
    if not value:
        value = str(default_path())
    if "://" not in value:
        return f"sqlite:///{Path(value).expanduser()}"
    if value.startswith(("postgresql://", "postgres://")):
        value = "postgresql+psycopg://" + value.split("://", 1)[1]
    return value


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL (None: another backend, or a database in memory)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database \
            or parsed.database == ":memory:" or parsed.database.startswith("file:"):
        return None
    return Path(parsed.database)


def make_folder(url: str) -> None:
    """Create the folder of a SQLite file (0700) for ``db init``."""
    path = sqlite_path(url)
    if path is not None and not path.parent.exists():
        path.parent.mkdir(mode=PRIVATE_FOLDER_MODE, parents=True)


def shown(url: str) -> str:
    """Where the ledger is, for messages: a SQLite file's path, else the URL without password."""
    path = sqlite_path(url)
    return str(path) if path is not None else make_url(url).render_as_string(hide_password=True)


def no_ledger(url: str) -> CannotRun:
    return CannotRun(_("no ledger at {where} (run `valitystili db init`)").format(where=shown(url)))


def make_private(url: str) -> None:
    """Take group and world access away from a SQLite database file and its companions."""
    database = sqlite_path(url)
    if database is None:
        return
    for suffix in SQLITE_COMPANIONS:
        path = Path(str(database) + suffix)
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
    engine = ledger.make_engine(url, **kwargs)
    _limit_lock_waits(engine)
    return engine


def _limit_lock_waits(engine: Engine) -> None:
    """Give every new connection the ledger's ``lock_timeout_seconds`` (see the module rules)."""
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        seconds = _stored_lock_timeout(dbapi_connection, engine.dialect.name)
        _lock_timeouts[engine] = seconds
        cursor = dbapi_connection.cursor()
        if engine.dialect.name == "postgresql":
            cursor.execute(f"SET lock_timeout = '{seconds}s'")   # 0: PostgreSQL waits on
            dbapi_connection.commit()
        elif engine.dialect.name == "sqlite":
            cursor.execute(f"PRAGMA busy_timeout = {seconds * 1000 or SQLITE_LONGEST_WAIT_MS}")
        cursor.close()


def _stored_lock_timeout(dbapi_connection, dialect: str) -> int:
    """The setting as the ledger holds it, read with the driver's own connection (the default
    where there is no ledger yet, or no override)."""
    from valitystili.store.settings import DEFAULTS

    value = DEFAULTS[LOCK_TIMEOUT_SETTING][0]
    cursor = dbapi_connection.cursor()
    try:
        if dialect == "postgresql":
            cursor.execute("SELECT to_regclass('settings') IS NOT NULL")
            present = cursor.fetchone()[0]
            marker = "%s"
        elif dialect == "sqlite":
            present = cursor.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' "
                                     "AND name = 'settings'").fetchone() is not None
            marker = "?"
        else:
            present = False
        if present:
            cursor.execute(f"SELECT value FROM settings WHERE key = {marker}",
                           (LOCK_TIMEOUT_SETTING,))
            row = cursor.fetchone()
            value = row[0] if row is not None else value
    finally:
        cursor.close()
    return int(value) if str(value).isdigit() else int(DEFAULTS[LOCK_TIMEOUT_SETTING][0])


@contextmanager
def lock_waits(engine: Engine):
    """Turn a lock wait past the lock timeout inside the block into its one-line ``CannotRun``
    (exit 3); every other error passes unchanged."""
    from sqlalchemy.exc import OperationalError

    try:
        yield
    except OperationalError as error:
        waited = gave_up_waiting(engine, error)
        if waited is None:
            raise
        raise waited from error


def gave_up_waiting(engine: Engine, error: BaseException) -> CannotRun | None:
    """The one-line refusal for a database error that is a lock wait past the lock timeout
    (PostgreSQL's lock_not_available, SQLite's busy); None for any other error."""
    original = getattr(error, "orig", error)
    busy = getattr(original, "sqlite_errorcode", None)
    if getattr(original, "sqlstate", None) != PG_LOCK_NOT_AVAILABLE \
            and (busy is None or busy & 0xFF != SQLITE_BUSY):
        return None
    seconds = _lock_timeouts.get(engine)
    if not seconds:
        return CannotRun(_("another user is working on the ledger; gave up after a while "
                           "(setting {setting})").format(setting=LOCK_TIMEOUT_SETTING))
    return CannotRun(_("another user is working on the ledger; gave up after {seconds} s "
                       "(setting {setting})").format(seconds=seconds, setting=LOCK_TIMEOUT_SETTING))


def alembic_config(connection=None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if connection is not None:
        config.attributes["connection"] = connection
    return config


def head_revision() -> str:
    """The newest migration's revision: the one no other migration names as its down_revision."""
    revisions, followed = set(), set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        lines = dict(_REVISION_LINE.findall(path.read_text(encoding="utf-8")))
        revisions.add(lines.get("revision"))
        followed.add(lines.get("down_revision"))
    heads = revisions - followed
    if len(heads) == 1 and None not in revisions:
        return heads.pop()
    # Not one plain chain (or a file without its revision line): Alembic says what is wrong.
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The revision the database's schema is at (None: no schema yet).

    Read without SQLite's write lock (a deferred transaction), so checking the schema never
    waits for another process's write."""
    with engine.execution_options(sqlite_begin="DEFERRED").connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
        if len(versions) <= 1:
            return versions[0][0] if versions else None
        # Several rows (heads): Alembic reports it in its own words.
        from alembic.runtime.migration import MigrationContext

        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to ``revision`` (creating it on an empty database)."""
    from alembic import command

    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), revision)


def is_initialised(engine: Engine) -> bool:
    return current_revision(engine) is not None


def require_ledger(engine: Engine) -> None:
    """Refuse a database that holds no ledger (``no_ledger``), without creating anything: a
    SQLite path that is missing or an empty file is not opened (opening would create a
    database there)."""
    url = engine.url.render_as_string(hide_password=False)
    path = sqlite_path(url)
    if path is not None and not _is_sqlite_file(path):
        raise no_ledger(url)
    if not is_initialised(engine):
        raise no_ledger(url)


def _is_sqlite_file(path: Path) -> bool:
    """A file SQLite could hold a ledger in: there, and not empty (SQLite would write a new
    database into an empty one).

    Only ``stat``: the file is never opened outside SQLite, since closing any descriptor of a
    database file drops the POSIX locks this process holds on it (SQLite's own connections in
    the same process would lose theirs, and concurrent writers could corrupt the file)."""
    try:
        return path.is_file() and path.stat().st_size > 0
    except OSError:
        return False


def ensure_schema(engine: Engine) -> None:
    """Check there is a ledger and its schema is current (every command but ``db init``)."""
    require_ledger(engine)
    if current_revision(engine) != head_revision():
        raise CannotRun(_("the database schema is out of date: run `valitystili db upgrade`"))


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


def advisory_lock(session: Session, key: int) -> None:
    """Hold PostgreSQL's transaction-scoped advisory lock ``key`` of this ledger's schema until
    the transaction ends (SQLite needs none: its writers are serialised by the file lock).

    The lock is keyed by the schema too, so two ledgers in one database (a county's test and
    production schemas, or the test suite's parallel workers) never wait for each other."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(current_schema()), :k)"),
                        {"k": key})
