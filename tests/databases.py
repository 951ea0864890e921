"""Throw-away databases for tests: a SQLite file, or a PostgreSQL database on
the machine's server (127.0.0.1, trust auth) created for the test and dropped
after it. TEST_POSTGRES_URL points elsewhere (its database is the admin one)."""
import os
import uuid
from contextlib import contextmanager

from sqlalchemy import create_engine, text

POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")


@contextmanager
def postgres_database():
    """Yield the URL of a new, empty PostgreSQL database; drop it afterwards."""
    name = f"tro_ly_so_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT", future=True)
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    try:
        yield url
    finally:
        from bot.db.engine import engine_for

        engine_for.cache_clear()  # close pooled connections before dropping
        with admin.connect() as connection:
            connection.execute(text(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name AND pid <> pg_backend_pid()"
            ), {"name": name})
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()
