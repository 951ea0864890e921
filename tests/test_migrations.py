"""Alembic migrations build exactly the models' schema, up and down, on SQLite and PostgreSQL."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from bot.db.engine import make_engine
from bot.db.migrate import current, downgrade, upgrade
from bot.db.models import Base


def test_upgrade_matches_the_models_and_downgrade_removes_everything(database):
    engine = make_engine(database)
    upgrade(engine)
    assert current(engine) == "0006"
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert differences == []
    downgrade(engine, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(engine)  # and up again
    assert "question_log" in inspect(engine).get_table_names()
    engine.dispose()
