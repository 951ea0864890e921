"""`python -m bot directory import|export`, run as the operator runs it."""
import codecs
import os
import subprocess
import sys

import pytest

from bot.db.engine import session_factory
from bot.directory.store import load_teams
from tests.conftest import ROOT

GOOD = ("commune;team_name;phone;telegram_chat_id\n"
        "Xã Tân Lập;Tổ công nghệ số xã Tân Lập;0912 345 678;-1001234567890\n"
        "Phường Quang Trung;Tổ công nghệ số phường Quang Trung;+84 203 3822 123;\n")


def run(args, database, stdin=None):
    env = {**os.environ, "DATABASE_URL": database, "RASA_TELEMETRY_ENABLED": "false"}
    env.pop("TEAM_DIRECTORY_CSV", None)
    return subprocess.run([sys.executable, "-m", "bot", "directory", *args], cwd=ROOT, env=env, input=stdin,
                          capture_output=True, timeout=120)


@pytest.fixture
def database(tmp_path):
    return f"sqlite:///{tmp_path / 'directory.sqlite3'}"


def communes(database):
    return sorted(t.commune for t in load_teams(session_factory(database)))


def test_import_a_good_file_then_export_it(tmp_path, database):
    path = tmp_path / "danh-ba.csv"
    path.write_text(GOOD, encoding="utf-8")
    done = run(["import", str(path)], database)
    assert done.returncode == 0, done.stderr.decode()
    out = done.stdout.decode()
    assert "Đã nhập danh bạ: 2 tổ, 1 có nhóm Telegram, 0 dòng mẫu [MẪU]" in out and "thêm 2" in out
    assert "[MẪU]" not in out.split("\n", 1)[1]  # no sample warning for a real directory
    assert communes(database) == ["Phường Quang Trung", "Xã Tân Lập"]

    exported = run(["export"], database)
    assert exported.returncode == 0 and exported.stdout.startswith(codecs.BOM_UTF8)
    assert "Xã Tân Lập,Tổ công nghệ số xã Tân Lập,0912 345 678,-1001234567890" in exported.stdout.decode("utf-8-sig")
    (tmp_path / "out.csv").write_bytes(exported.stdout)
    again = run(["import", str(tmp_path / "out.csv")], database)
    assert again.returncode == 0 and "giữ nguyên 2" in again.stdout.decode()

    to_file = run(["export", str(tmp_path / "file.csv")], database)
    assert to_file.returncode == 0 and (tmp_path / "file.csv").read_bytes() == exported.stdout


def test_a_bad_file_lists_every_problem_and_imports_nothing(tmp_path, database):
    good = tmp_path / "good.csv"
    good.write_text(GOOD, encoding="utf-8")
    assert run(["import", str(good)], database).returncode == 0
    bad = tmp_path / "bad.csv"
    bad.write_text(GOOD + "xa tan lap;Tổ trùng;0912345679;\nXã Mới;;12;abc\n", encoding="utf-8")
    done = run(["import", str(bad)], database)
    assert done.returncode == 1 and done.stdout == b""
    err = done.stderr.decode()
    assert "Không nhập: tệp" in err and "có 4 lỗi. Danh bạ đang dùng giữ nguyên." in err
    assert "Dòng 2 và 4, cột commune: xã/phường bị trùng" in err
    assert "Dòng 5, cột team_name: thiếu tên tổ" in err
    assert "Dòng 5, cột phone" in err and "Dòng 5, cột telegram_chat_id" in err
    assert communes(database) == ["Phường Quang Trung", "Xã Tân Lập"]


def test_a_windows_1258_file_is_refused_with_the_way_to_save_it(tmp_path, database):
    path = tmp_path / "ansi.csv"
    path.write_bytes("commune,team_name,phone\nTân,Tô A,0912345678\n".encode("cp1258"))
    done = run(["import", str(path)], database)
    assert done.returncode == 1 and "CSV UTF-8" in done.stderr.decode()
    assert communes(database) == []


def test_dry_run_checks_without_importing(tmp_path, database):
    path = tmp_path / "danh-ba.csv"
    path.write_text(GOOD, encoding="utf-8")
    done = run(["import", "--dry-run", str(path)], database)
    assert done.returncode == 0 and "chưa nhập gì" in done.stdout.decode() and "thêm 2" in done.stdout.decode()
    assert communes(database) == []


def test_importing_the_sample_warns_that_it_is_sample(database):
    done = run(["import", str(ROOT / "data" / "team_directory.sample.csv")], database)
    assert done.returncode == 0
    assert "6 dòng mẫu [MẪU]" in done.stdout.decode() and "Lưu ý" in done.stdout.decode()


def test_export_of_an_empty_database_gives_the_seeded_sample(database):
    done = run(["export"], database)
    assert done.returncode == 0
    rows = done.stdout.decode("utf-8-sig").splitlines()
    assert rows[0] == "commune,team_name,phone,telegram_chat_id" and len(rows) == 7 and "[MẪU]" in rows[1]


def test_import_from_stdin_and_a_missing_file(database):
    done = run(["import", "-"], database, stdin=GOOD.encode("utf-8"))
    assert done.returncode == 0 and len(communes(database)) == 2
    missing = run(["import", "/nonexistent/danh-ba.csv"], database)
    assert missing.returncode == 1 and "Không mở được tệp" in missing.stderr.decode()
    assert run(["import"], database).returncode == 2  # usage
