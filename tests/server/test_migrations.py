"""Migrations upgrade a database that already holds data."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from server import db


def test_upgrading_from_the_first_schema_keeps_the_data(tmp_path: Path) -> None:
    engine = db.make_engine(f"sqlite:///{tmp_path / 'old.db'}")
    config = Config()
    config.set_main_option("script_location", str(db.MIGRATIONS))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "0001")
        connection.execute(
            text(
                "INSERT INTO items (id, category, skill, stem, options, answer_key, a, b, c,"
                " status, source)"
                " VALUES ('X-1', 'cnn', 's', 'q', '[]', '[\"a\"]', 1, 0, 0.2, 'live', 't')"
            )
        )
    db.migrate(engine)
    with engine.connect() as connection:
        row = connection.execute(text("SELECT id, enemies FROM items")).one()
        assert tuple(row) == ("X-1", "[]")
        assert "item_exposure" in inspect(connection).get_table_names()
        version = connection.execute(text("SELECT version_num FROM alembic_version")).scalar()
    assert version == ScriptDirectory.from_config(config).get_current_head() == "0014"
    engine.dispose()


def test_the_migrated_schema_is_the_one_the_code_declares(database_url: str) -> None:
    """Alembic's comparison of the migrated database with ``db.metadata`` finds no table,
    column, nullability or index that differs (Procrastinate's own tables aside)."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = db.make_engine(database_url)
    db.migrate(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={
                "include_name": lambda name, kind, _parent: (
                    not (kind == "table" and (name or "").startswith("procrastinate"))
                ),
                "compare_type": False,
            },
        )
        differences = compare_metadata(context, db.metadata)
    engine.dispose()
    assert differences == []
