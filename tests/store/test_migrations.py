"""The Alembic migrations build exactly the schema the models describe, on both backends, and
can be taken down again; the copy other tests start from (``helpers.migrated``) is that schema.

The ``engine`` here runs the migrations for real (the conftest's ``engine`` is a copy)."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from conftest import Backend
from helpers.migrated import migrate
from sqlalchemy import inspect, text

import valitystili.store.models  # noqa: F401  (every table on the metadata)
from ledger import metadata
from valitystili.store import db


@pytest.fixture
def engine(backend):
    engine = db.make_engine(backend.url)
    db.upgrade(engine)
    yield engine
    engine.dispose()


def schema_of(engine) -> dict:
    """Everything a schema declares, as the database itself describes it."""
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            # A table Alembic rebuilt (batch mode) lists its constraints in an order that
            # varies from process to process: each line of a declaration counts, not its place.
            return {"objects": [
                (kind, name, table, sorted(line.rstrip(", ") for line in (sql or "").splitlines()))
                for kind, name, table, sql in connection.execute(text(
                    "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"))],
                "revision": db.current_revision(engine)}
        return {
            "columns": connection.execute(text(
                "SELECT table_name, column_name, ordinal_position, data_type, is_nullable, "
                "column_default FROM information_schema.columns "
                "WHERE table_schema = current_schema() ORDER BY 1, 3")).all(),
            "constraints": connection.execute(text(
                "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
                "FROM pg_constraint WHERE connamespace = current_schema()::regnamespace "
                "ORDER BY 1, 2")).all(),
            "indexes": connection.execute(text(
                "SELECT tablename, indexname, replace(indexdef, current_schema() || '.', '') FROM pg_indexes "
                "WHERE schemaname = current_schema() ORDER BY 1, 2")).all(),
            "triggers": connection.execute(text(
                "SELECT tgrelid::regclass::text, tgname, tgenabled FROM pg_trigger "
                "WHERE NOT tgisinternal AND tgrelid::regclass::text NOT LIKE 'pg_%' "
                "AND tgrelid IN (SELECT oid FROM pg_class "
                "WHERE relnamespace = current_schema()::regnamespace) ORDER BY 1, 2")).all(),
            "functions": connection.execute(text(
                "SELECT proname, prosrc FROM pg_proc "
                "WHERE pronamespace = current_schema()::regnamespace ORDER BY 1")).all(),
            "sequences": connection.execute(text(
                "SELECT sequence_name, start_value FROM information_schema.sequences "
                "WHERE sequence_schema = current_schema() ORDER BY 1")).all(),
            "revision": db.current_revision(engine)}


def test_the_copy_other_tests_start_from_is_the_migrated_schema(engine, backend, second_url):
    migrated = schema_of(engine)
    assert migrated["revision"] == db.head_revision()
    copy = Backend(backend.name, second_url, backend.schema and f"{backend.schema}_b",
                   backend.admin_engine)
    migrate(copy)
    copied = db.make_engine(copy.url)
    try:
        assert schema_of(copied) == migrated
    finally:
        copied.dispose()


def test_migrations_match_the_models(engine):
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    assert differences == []


def test_schema_is_at_head_after_upgrade(engine):
    assert db.current_revision(engine) == db.head_revision()
    assert set(metadata.tables) <= set(inspect(engine).get_table_names())


def test_downgrade_to_base_removes_every_table_and_upgrade_restores_them(engine):
    with engine.begin() as connection:
        command.downgrade(db.alembic_config(connection), "base")
    assert set(metadata.tables) & set(inspect(engine).get_table_names()) == set()
    db.upgrade(engine)
    assert set(metadata.tables) <= set(inspect(engine).get_table_names())
