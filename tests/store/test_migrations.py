"""The Alembic migrations build exactly the schema the models describe, on both backends, and
can be taken down again."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

import valitystili.store.models  # noqa: F401  (every table on the metadata)
from ledger import metadata
from valitystili.store import db


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
