"""The database engine from DATABASE_URL (default: SQLite under var/)."""
from __future__ import annotations

import os
from functools import lru_cache
from typing import Mapping, Optional

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import QueuePool

from bot.settings import VAR_DIR

DEFAULT_SQLITE_FILE = VAR_DIR / "tro-ly-so.sqlite3"
CONNECT_TIMEOUT_SECONDS = 5  # an unreachable server fails fast instead of hanging a request


def database_url(env: Optional[Mapping[str, str]] = None) -> str:
    env = os.environ if env is None else env
    url = env.get("DATABASE_URL", "").strip()
    if url:
        return url
    DEFAULT_SQLITE_FILE.parent.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{DEFAULT_SQLITE_FILE}"


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # noqa: ANN001
    # WAL lets the Rasa server and the web app read while the other writes;
    # busy_timeout makes a writer wait for the lock instead of failing;
    # synchronous=NORMAL is WAL's recommended setting: no fsync per commit,
    # still no corruption on a crash (a power cut may lose the last commits).
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        # SQLAlchemy 1.4 opens a new SQLite connection per session (NullPool) and
        # so re-runs the pragmas every time; a small pool keeps them open.
        engine = create_engine(
            url, future=True, poolclass=QueuePool, pool_size=5, max_overflow=10,
            connect_args={"check_same_thread": False},
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    connect_args = {"connect_timeout": CONNECT_TIMEOUT_SECONDS} if url.startswith("postgresql") else {}
    return create_engine(url, future=True, pool_pre_ping=True, connect_args=connect_args)


@lru_cache(maxsize=None)
def engine_for(url: str) -> Engine:
    """One engine per URL per process, its schema upgraded to the newest (Alembic)."""
    from bot.db.migrate import upgrade

    engine = make_engine(url)
    upgrade(engine)
    return engine


def session_factory(url: Optional[str] = None) -> sessionmaker:
    return sessionmaker(engine_for(url or database_url()), future=True, expire_on_commit=False)
