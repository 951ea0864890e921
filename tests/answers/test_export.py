"""`answers diff` and `answers export`: the published answers written back into the repo files."""
import datetime
import os
import shutil
import subprocess
import sys

import yaml

from bot.answers import store
from bot.answers.export import export
from bot.db.engine import session_factory
from tests.conftest import ROOT

APPROVER = store.Actor("duyet", store.APPROVER)
TODAY = datetime.date(2026, 12, 2)


def copy_of_the_repo_files(tmp_path):
    for part in ("domain", "bot/journeys", "bot/library"):
        shutil.copytree(ROOT / part, tmp_path / part, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    return tmp_path


def run(args, database):
    env = {**os.environ, "DATABASE_URL": database, "RASA_TELEMETRY_ENABLED": "false"}
    return subprocess.run([sys.executable, "-m", "bot", "answers", *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


def test_diff_lists_what_was_published_and_export_writes_it_keeping_the_comments(tmp_path):
    database = f"sqlite:///{tmp_path / 'answers.sqlite3'}"
    clean = run(["diff"], database)
    assert clean.returncode == 0, clean.stderr
    assert clean.stdout.strip().endswith("0 câu trả lời khác với tệp của kho mã")

    factory = session_factory(database)
    water = {"variations": [{"text": "Bản đã duyệt về tiền nước ạ.",
                             "buttons": [{"title": "👤 Gặp người hỗ trợ", "payload": "/request_human"}]}]}
    store.propose(factory, store.response_key("utter_ask_pay_water"), water, APPROVER, "Đổi", "Nguồn", TODAY, publish=True)
    store.propose(factory, store.journey_key("open_account", "has_chip_id"), {"text": "Bước mới ạ?"}, APPROVER,
                  "Đổi", "Nguồn", TODAY, publish=True)
    store.propose(factory, store.source_key("ask_pay_water"),
                  {"sources": [{"kind": "place", "title": "Công ty cấp nước", "checked": "2026-12-02"}]},
                  APPROVER, "Đổi", "Nguồn", TODAY, publish=True)
    changed = run(["diff"], database)
    assert changed.returncode == 1
    assert "+Bản đã duyệt về tiền nước ạ." in changed.stdout and "== journey:open_account/has_chip_id" in changed.stdout
    assert changed.stdout.strip().endswith("3 câu trả lời khác với tệp của kho mã")

    root = copy_of_the_repo_files(tmp_path / "repo")
    with factory() as session:
        written = export(store.published(session), root)
    assert sorted(p.relative_to(root).as_posix() for p in written) == [
        "bot/journeys/journeys.yml", "bot/library/sources.yml", "domain/bills.yml"]
    bills = yaml.safe_load((root / "domain" / "bills.yml").read_text(encoding="utf-8"))
    assert bills["responses"]["utter_ask_pay_water"] == water["variations"]
    assert bills["responses"]["utter_ask_pay_electricity"] == yaml.safe_load(
        (ROOT / "domain" / "bills.yml").read_text(encoding="utf-8"))["responses"]["utter_ask_pay_electricity"]
    assert "# --- Trả tiền nước ---" in (root / "domain" / "bills.yml").read_text(encoding="utf-8")
    journeys = yaml.safe_load((root / "bot" / "journeys" / "journeys.yml").read_text(encoding="utf-8"))
    assert journeys["open_account"]["steps"]["has_chip_id"]["text"] == "Bước mới ạ?"
    sources = yaml.safe_load((root / "bot" / "library" / "sources.yml").read_text(encoding="utf-8"))
    assert sources["topics"]["ask_pay_water"][0]["checked"] == datetime.date(2026, 12, 2)
    # the files now say what is published: nothing differs any more
    assert store.repo_items(root / "domain", root / "bot/journeys/journeys.yml", root / "bot/library/sources.yml") \
        == {k: v for k, v in store.published(factory()).items()}
