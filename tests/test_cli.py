"""The operator commands that touch the database: create-admin, seed-log, prune-log."""
import os
import subprocess
import sys
from pathlib import Path

from bot.db.engine import session_factory
from bot.settings import Settings
from bot.web.app import create_app
from bot.web.auth import AdminAccounts

ROOT = Path(__file__).resolve().parent.parent


def run(args, database, stdin=""):
    env = {**os.environ, "DATABASE_URL": database, "RASA_TELEMETRY_ENABLED": "false"}
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=ROOT, env=env, input=stdin,
                          capture_output=True, text=True, timeout=120)


def test_create_admin_then_log_in(tmp_path):
    database = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    created = run(["create-admin", "CanBo.Xa", "--password-stdin"], database, "mot-mat-khau-dai\n")
    assert created.returncode == 0, created.stderr
    assert AdminAccounts(session_factory(database)).authenticate("canbo.xa", "mot-mat-khau-dai").ok
    again = run(["create-admin", "canbo.xa", "--password-stdin"], database, "mot-mat-khau-khac\n")
    short = run(["create-admin", "nguoikhac", "--password-stdin"], database, "ngan\n")
    assert again.returncode == 1 and short.returncode == 1
    assert AdminAccounts(session_factory(database)).count() == 1


def test_create_admin_with_a_role(tmp_path):
    from sqlalchemy import select

    from bot.db.models import AdminUser

    database = f"sqlite:///{tmp_path / 'roles.sqlite3'}"
    assert run(["create-admin", "bientap", "--role", "editor", "--password-stdin"], database, "mot-mat-khau-dai\n").returncode == 0
    assert run(["create-admin", "duyet", "--password-stdin"], database, "mot-mat-khau-dai\n").returncode == 0
    assert run(["create-admin", "x", "--role", "chief", "--password-stdin"], database, "mot-mat-khau-dai\n").returncode == 2
    with session_factory(database)() as session:
        roles = dict(session.execute(select(AdminUser.username, AdminUser.role)).all())
    assert roles == {"bientap": "editor", "duyet": "approver"}


def test_seed_then_prune(tmp_path):
    database = f"sqlite:///{tmp_path / 'seed.sqlite3'}"
    seeded = run(["seed-log", "--rows", "500", "--days", "10"], database)
    assert seeded.returncode == 0 and seeded.stdout.strip().splitlines()[-1] == "500"
    env_run = subprocess.run([sys.executable, "-m", "bot", "prune-log"], cwd=ROOT, capture_output=True, text=True,
                             env={**os.environ, "DATABASE_URL": database, "QUESTION_LOG_RETENTION_DAYS": "5"}, timeout=120)
    removed = int(env_run.stdout.strip().splitlines()[-1])
    assert 100 < removed < 500  # roughly the older half of ten days


def test_first_admin_from_the_environment(tmp_path, monkeypatch):
    sessions = session_factory(f"sqlite:///{tmp_path / 'boot.sqlite3'}")
    monkeypatch.setenv("ADMIN_USERNAME", "quantri")
    monkeypatch.setenv("ADMIN_PASSWORD", "mat-khau-khoi-dau")
    create_app(Settings.from_env({}), sessions)
    monkeypatch.setenv("ADMIN_PASSWORD", "doi-mat-khau-khac")
    create_app(Settings.from_env({}), sessions)  # a second start never overwrites
    accounts = AdminAccounts(sessions)
    assert accounts.count() == 1 and accounts.authenticate("quantri", "mat-khau-khoi-dau").ok
