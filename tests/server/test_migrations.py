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
    assert version == ScriptDirectory.from_config(config).get_current_head() == "0006"
    engine.dispose()
