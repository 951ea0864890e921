"""`python -m bot directory import FILE [--dry-run]` and `... export [FILE]`.

Import: the file is checked completely first; if any row is bad nothing is
imported (the directory in use stays as it was), every problem is listed and
the exit code is 1. A good file replaces the whole directory in one
transaction. Export writes what the assistant uses, in the import format.
Messages are Vietnamese: the operators are commune and provincial staff.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, List, Optional, TextIO

if TYPE_CHECKING:
    from bot.directory.teams import Team


def add_arguments(parser: argparse.ArgumentParser) -> None:
    commands = parser.add_subparsers(dest="directory_command", required=True)
    imported = commands.add_parser(
        "import", help="replace the team directory with a CSV file (every row valid, or nothing imported)"
    )
    imported.add_argument("file", help="CSV file: commune,team_name,phone,telegram_chat_id ('-' = stdin)")
    imported.add_argument("--dry-run", action="store_true", help="only check the file; change nothing")
    exported = commands.add_parser("export", help="write the team directory as CSV (UTF-8 with BOM)")
    exported.add_argument("file", nargs="?", help="where to write (default: standard output)")


def run(args: argparse.Namespace, stdout: Optional[TextIO] = None, stderr: Optional[TextIO] = None) -> int:
    stdout, stderr = stdout or sys.stdout, stderr or sys.stderr
    from sqlalchemy.exc import SQLAlchemyError

    try:
        if args.directory_command == "import":
            return import_command(args.file, args.dry_run, stdout, stderr)
        return export_command(args.file, stdout, stderr)
    except SQLAlchemyError as error:
        print(f"Lỗi cơ sở dữ liệu (DATABASE_URL), không thay đổi gì: {error}", file=stderr)
        return 1


def import_command(file: str, dry_run: bool, stdout: TextIO, stderr: TextIO) -> int:
    from bot.db.engine import session_factory
    from bot.directory.csv_io import DirectoryCsvError, parse
    from bot.directory.store import CACHE_SECONDS, replace_teams

    try:
        data = sys.stdin.buffer.read() if file == "-" else Path(file).read_bytes()
    except OSError as error:
        print(f"Không mở được tệp {file}: {error.strerror or error}", file=stderr)
        return 1
    try:
        teams = parse(data)
    except DirectoryCsvError as error:
        print(f"Không nhập: tệp {file} có {len(error.problems)} lỗi. Danh bạ đang dùng giữ nguyên.", file=stderr)
        for problem in error.problems:
            print(f"  - {problem}", file=stderr)
        return 1
    result = replace_teams(session_factory(), teams, dry_run=dry_run)
    changes = f"thêm {result.added}, sửa {result.updated}, bỏ {result.removed}, giữ nguyên {result.unchanged}"
    if dry_run:
        print(f"Tệp hợp lệ, chưa nhập gì (--dry-run): {summary(teams)}. Nếu nhập: {changes}.", file=stdout)
    else:
        print(f"Đã nhập danh bạ: {summary(teams)} ({changes}).", file=stdout)
        print(f"Trợ lý dùng danh bạ mới sau tối đa {CACHE_SECONDS:.0f} giây.", file=stdout)
    samples = sum(team.is_sample for team in teams)
    if samples:
        print(f"Lưu ý: còn {samples} dòng mẫu [MẪU]. Người dân không được xem các dòng này "
              "(trợ lý chỉ đến UBND xã/phường); hãy thay bằng danh bạ thật.", file=stdout)
    return 0


def export_command(file: Optional[str], stdout: TextIO, stderr: TextIO) -> int:
    from bot.db.engine import database_url
    from bot.directory.csv_io import dump
    from bot.directory.store import load_directory, seed_csv_path

    teams = load_directory(database_url(), seed_csv_path()).teams
    data = dump(teams)
    if file and file != "-":
        Path(file).write_bytes(data)
        print(f"Đã xuất {summary(teams)} vào {file}.", file=stderr)
    else:
        binary = getattr(stdout, "buffer", None)
        if binary is None:
            stdout.write(data.decode("utf-8"))
        else:
            stdout.flush()
            binary.write(data)
            binary.flush()
    return 0


def summary(teams: List["Team"]) -> str:
    """'6 tổ, 2 có nhóm Telegram, 6 dòng mẫu [MẪU]'."""
    groups = sum(team.telegram_chat_id is not None for team in teams)
    samples = sum(team.is_sample for team in teams)
    return f"{len(teams)} tổ, {groups} có nhóm Telegram, {samples} dòng mẫu [MẪU]"
