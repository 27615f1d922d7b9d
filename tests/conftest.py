"""Shared fixtures: every storage test runs on SQLite and on PostgreSQL.

PostgreSQL: each test gets a fresh schema in the server's ``test`` database (URL from
``VALITYSTILI_TEST_PG``), dropped afterwards. When the server cannot be reached the PostgreSQL
half is skipped with the reason — except when ``CI=true``, where that is a failure.

The ``engine`` and ``cli`` fixtures start from a ledger at the head revision made by
``helpers.migrated`` (the migrations run once per test process; each test gets a copy).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from urllib.parse import quote

import pytest
from click.testing import CliRunner
from helpers.migrated import migrate, remove_template
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from valitystili.store import db

PG_URL = os.environ.get("VALITYSTILI_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BACKENDS = ("sqlite", "postgresql")
IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture(scope="session")
def pg_admin_engine():
    engine = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # noqa: BLE001 - any failure to connect means "no server"
        engine.dispose()
        reason = f"PostgreSQL at {PG_URL} is unreachable: {str(error).splitlines()[0]}"
        if IN_CI:
            pytest.fail(f"{reason} (CI=true: PostgreSQL tests must not be skipped)", pytrace=False)
        pytest.skip(reason)
    yield engine
    engine.dispose()


def pg_schema_url(schema: str, user: str | None = None) -> str:
    base = PG_URL
    if user is not None:
        scheme, rest = base.split("://", 1)
        rest = rest.split("@", 1)[1] if "@" in rest else rest
        base = f"{scheme}://{user}@{rest}"
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options={quote(f'-csearch_path={schema}')}"


@dataclass
class Backend:
    name: str
    url: str
    schema: str | None = None
    admin_engine: object | None = None
    migrated: bool = False      # helpers.migrated.migrate has run on it

    def url_for(self, user: str) -> str:
        """URL acting as ``user``: on PostgreSQL a database login of that name is created."""
        if self.name == "sqlite":
            return self.url
        with self.admin_engine.connect() as connection:
            exists = connection.execute(
                text("SELECT 1 FROM pg_roles WHERE rolname = :name"), {"name": user}
            ).first()
            if not exists:
                connection.execute(text(f'CREATE ROLE "{user}" LOGIN'))
            for grant in (
                f'GRANT USAGE, CREATE ON SCHEMA "{self.schema}" TO "{user}"',
                f'GRANT ALL ON ALL TABLES IN SCHEMA "{self.schema}" TO "{user}"',
                f'GRANT ALL ON ALL SEQUENCES IN SCHEMA "{self.schema}" TO "{user}"',
            ):
                connection.execute(text(grant))
        return pg_schema_url(self.schema, user)

    @property
    def admin_name(self) -> str:
        return "postgres" if self.name == "postgresql" else "root"


@pytest.fixture(autouse=True)
def english(monkeypatch):
    """Every test reads English unless it chooses a language: the machine's locale and a
    VALITYSTILI_LANG of the person running the suite do not count (base/i18n.py)."""
    for name in ("VALITYSTILI_LANG", "LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")


@pytest.fixture(params=BACKENDS)
def backend(request, tmp_path):
    if request.param == "sqlite":
        yield Backend("sqlite", f"sqlite:///{tmp_path / 'ledger.db'}")
        return
    admin = request.getfixturevalue("pg_admin_engine")
    schema = f"t_{uuid.uuid4().hex[:16]}"
    with pg_schema(admin, schema):
        yield Backend("postgresql", pg_schema_url(schema), schema, admin)


@contextmanager
def pg_schema(admin, schema: str) -> Iterator[None]:
    """An empty PostgreSQL schema for the block, dropped with all it holds afterwards."""
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


@pytest.fixture
def second_url(backend, tmp_path, request):
    """A second empty database on the same backend (on PostgreSQL a second schema)."""
    if backend.name == "sqlite":
        yield f"sqlite:///{tmp_path / 'second.db'}"
        return
    schema = f"{backend.schema}_b"
    with pg_schema(request.getfixturevalue("pg_admin_engine"), schema):
        yield pg_schema_url(schema)


@pytest.fixture
def db_url(backend) -> str:
    return backend.url


@pytest.fixture
def engine(backend):
    """An engine on a ledger at the head revision (``helpers.migrated``: the migrations run
    once per test process and each test gets their result)."""
    migrate(backend)
    engine = db.make_engine(backend.url)
    yield engine
    engine.dispose()


@pytest.fixture
def session_factory(engine) -> sessionmaker[Session]:
    return db.session_factory(engine)


@pytest.fixture
def session(session_factory):
    with session_factory() as session:
        yield session


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str


class Cli:
    """Runs ``valitystili`` commands against the test database as a given user."""

    def __init__(self, backend: Backend, monkeypatch):
        self.backend = backend
        self.monkeypatch = monkeypatch
        self.runner = CliRunner()

    def __call__(self, *args: str, user: str | None = None, input: str | None = None,
                 env: dict | None = None) -> CliResult:
        from valitystili.cli import cli

        user = user or self.backend.admin_name
        url = self.backend.url_for(user)
        environment = {"VALITYSTILI_DB": url, **(env or {})}
        environment["VALITYSTILI_USER"] = user if self.backend.name == "sqlite" else ""
        result = self.runner.invoke(cli, list(args), env=environment, input=input,
                                    catch_exceptions=False)
        return CliResult(result.exit_code, result.stdout, result.stderr)

    def ok(self, *args: str, **kwargs) -> str:
        result = self(*args, **kwargs)
        assert result.exit_code == 0, (result.exit_code, result.stderr, result.stdout)
        return result.stdout

    def json(self, *args: str, **kwargs):
        import json

        return json.loads(self.ok("--format", "json", *args, **kwargs))


@pytest.fixture
def cli(backend, monkeypatch) -> Cli:
    runner = Cli(backend, monkeypatch)
    migrate(backend)
    runner.ok("db", "init")     # on the migrated schema: registers the first admin
    return runner


def pytest_sessionfinish(session, exitstatus):
    remove_template()
