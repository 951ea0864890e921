"""The team directory as a CSV file: read (decode, find the delimiter, validate
every row) and write.

Format: a header row with the columns ``commune``, ``team_name``, ``phone`` and
``telegram_chat_id`` (any order; ``telegram_chat_id`` may be left out), then one
row per commune/ward. Any other named column is an error, so that a misspelt
header is never silently ignored; columns without a name (the empty cells
Excel leaves after the last column) are ignored as long as they stay empty.

Accepted files: UTF-8 with or without BOM, or UTF-16 with BOM (Excel's
"Unicode text"); delimiter ``,``, ``;`` or tab, told by the header row. Any
other encoding is refused with a hint to save as "CSV UTF-8".

:func:`parse` returns every team or raises :class:`DirectoryCsvError` listing
every problem, in Vietnamese, with its line number and column (the operators
are commune and provincial civil servants). :func:`dump` writes the same format
(UTF-8 with BOM, so Excel shows Vietnamese correctly); dump -> parse
round-trips.
"""
from __future__ import annotations

import codecs
import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from bot.csv_safety import spreadsheet_safe, unneutralise
from bot.directory.teams import PREFIXES, Team, commune_key

COLUMNS = ("commune", "team_name", "phone", "telegram_chat_id")
REQUIRED_COLUMNS = ("commune", "team_name", "phone")
MAX_LENGTH = {"commune": 120, "team_name": 200, "phone": 32}  # the columns of the `teams` table
MISSING = {
    "commune": "thiếu tên xã/phường",
    "team_name": "thiếu tên tổ",
    "phone": "thiếu số điện thoại",
}
DELIMITERS = (",", ";", "\t")
SAVE_AS_UTF8 = 'Trong Excel chọn Tệp → Lưu thành → kiểu tệp "CSV UTF-8 (Comma delimited) (*.csv)" rồi nhập lại.'
TEXT_COLUMN_HINT = "Trong Excel, định dạng cột này là Văn bản (Text) rồi gõ lại."

_PHONE_SHAPE = re.compile(r"^\+?[0-9 .()\-]+$")
_PHONE_SEPARATORS = re.compile(r"[ .()\-]")
_INTEGER = re.compile(r"^-?[0-9]+$")
_SCIENTIFIC = re.compile(r"^-?[0-9]+([.,][0-9]+)?[eE][+-]?[0-9]+$")
_HOTLINES = ("1800", "1900")
_BIGINT_MIN = -(2 ** 63)


@dataclass(frozen=True)
class CsvProblem:
    """One problem of the file: its line(s) (1 = the header), column, what is wrong."""

    lines: Tuple[int, ...]
    column: Optional[str]
    message: str

    def __str__(self) -> str:
        where = []
        if self.lines:
            numbers = [str(n) for n in self.lines]
            joined = numbers[0] if len(numbers) == 1 else ", ".join(numbers[:-1]) + " và " + numbers[-1]
            where.append(f"Dòng {joined}")
        if self.column:
            where.append(f"cột {self.column}")
        return f"{', '.join(where)}: {self.message}" if where else self.message


class DirectoryCsvError(ValueError):
    """The file cannot be imported; ``problems`` lists everything wrong with it."""

    def __init__(self, problems: Sequence[CsvProblem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def read_file(path: Path) -> List[Team]:
    return parse(Path(path).read_bytes())


def parse(data: bytes) -> List[Team]:
    """Every team of the file, or :class:`DirectoryCsvError` with every problem."""
    rows = _rows(decode(data))
    header_line, header = _header(rows)
    columns, problems = _columns(header_line, header)
    if problems:
        raise DirectoryCsvError(problems)
    teams: List[Team] = []
    communes: List[Tuple[int, str]] = []  # every named commune, also on bad rows, to find duplicates
    for line, cells in rows:
        if not any(cell.strip() for cell in cells):
            continue  # blank lines, and the empty rows Excel leaves at the end
        values = _values(cells, columns)
        if values["commune"]:
            communes.append((line, values["commune"]))
        team, row_problems = _team(line, cells, columns, values)
        problems.extend(row_problems)
        if team is not None:
            teams.append(team)
    problems.extend(_duplicates(communes))
    if not teams and not problems:
        problems.append(CsvProblem((), None, "tệp không có dòng dữ liệu nào (danh bạ không được để trống)"))
    if problems:
        raise DirectoryCsvError(sorted(problems, key=lambda p: p.lines))
    return teams


def dump(teams: Iterable[Team]) -> bytes:
    """The directory as CSV: UTF-8 with BOM, comma-delimited, header first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for team in teams:
        chat = "" if team.telegram_chat_id is None else str(team.telegram_chat_id)
        writer.writerow([spreadsheet_safe(cell) for cell in (team.commune, team.team_name, team.phone, chat)])
    return codecs.BOM_UTF8 + buffer.getvalue().encode("utf-8")


def decode(data: bytes) -> str:
    """The text of a UTF-8 (BOM optional) or UTF-16 (BOM required) file."""
    if data.startswith(b"PK\x03\x04"):
        raise _file_error("đây là tệp Excel (.xlsx), không phải CSV. " + SAVE_AS_UTF8)
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise _file_error("tệp UTF-16 bị hỏng (không đọc được). " + SAVE_AS_UTF8) from None
    else:
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as error:
            line = data[: error.start].count(b"\n") + 1
            raise DirectoryCsvError([CsvProblem((line,), None, (
                "tệp không được lưu bằng mã UTF-8 (có thể là bảng mã Windows-1258 hoặc TCVN3), "
                "nên chữ tiếng Việt sẽ bị sai. " + SAVE_AS_UTF8
            ))]) from None
    if "\x00" in text:
        raise _file_error("tệp có ký tự lạ (tệp UTF-16 thiếu BOM, hoặc không phải tệp chữ). " + SAVE_AS_UTF8)
    if not text.strip():
        raise _file_error("tệp trống: cần dòng tiêu đề " + ",".join(COLUMNS) + " và ít nhất một dòng dữ liệu")
    return text


def _file_error(message: str) -> DirectoryCsvError:
    return DirectoryCsvError([CsvProblem((), None, "Tệp không đọc được: " + message)])


def _rows(text: str) -> List[Tuple[int, List[str]]]:
    """[(line where the row starts, cells)] with the delimiter the header uses."""
    first_line = text.lstrip("\r\n").splitlines()[0]
    delimiter = max(DELIMITERS, key=lambda d: (_known_columns(first_line, d), -DELIMITERS.index(d)))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows, last = [], 0
    try:
        for cells in reader:
            rows.append((last + 1, cells))
            last = reader.line_num
    except csv.Error as error:  # e.g. a quote that is never closed
        raise DirectoryCsvError([CsvProblem((last + 1,), None, f"dòng CSV hỏng ({error}); kiểm tra dấu ngoặc kép")]) from None
    return rows


def _known_columns(line: str, delimiter: str) -> int:
    cells = next(csv.reader([line], delimiter=delimiter), [])
    return sum(_column_name(cell) in COLUMNS for cell in cells)


def _column_name(cell: str) -> str:
    return cell.strip().strip("\ufeff").lower()


def _header(rows: List[Tuple[int, List[str]]]) -> Tuple[int, List[str]]:
    """Take the header (the first non-blank row) off ``rows``."""
    while rows and not any(cell.strip() for cell in rows[0][1]):
        rows.pop(0)
    if not rows:
        raise _file_error("tệp trống: cần dòng tiêu đề " + ",".join(COLUMNS) + " và ít nhất một dòng dữ liệu")
    line, header = rows.pop(0)
    return line, header


def _columns(line: int, header: List[str]) -> Tuple[Dict[str, int], List[CsvProblem]]:
    """{column name: index} of the header, and what is wrong with it."""
    columns: Dict[str, int] = {}
    problems: List[CsvProblem] = []
    for index, cell in enumerate(header):
        name = _column_name(cell)
        if not name:
            continue
        if name not in COLUMNS:
            problems.append(CsvProblem((line,), None, (
                f'cột "{cell.strip()}" không có trong mẫu; dòng tiêu đề chỉ gồm các cột ' + ", ".join(COLUMNS)
            )))
        elif name in columns:
            problems.append(CsvProblem((line,), name, "cột này có hai lần trong dòng tiêu đề"))
        else:
            columns[name] = index
    if not columns:
        return columns, [CsvProblem((line,), None, (
            "không thấy dòng tiêu đề. Dòng đầu tiên của tệp phải là: " + ",".join(COLUMNS)
        ))]
    for name in REQUIRED_COLUMNS:
        if name not in columns:
            problems.append(CsvProblem((line,), None, f"dòng tiêu đề thiếu cột {name}"))
    return columns, problems


def _clean(value: str) -> str:
    """NFC, surrounding and repeated whitespace (incl. line breaks inside a cell) removed."""
    return " ".join(unicodedata.normalize("NFC", unneutralise(value)).split())


def _values(cells: List[str], columns: Dict[str, int]) -> Dict[str, str]:
    """{column: cleaned cell}; a row shorter than the header has empty cells."""
    return {name: _clean(cells[index]) if index < len(cells) else "" for name, index in columns.items()}


def _team(
    line: int, cells: List[str], columns: Dict[str, int], values: Dict[str, str]
) -> Tuple[Optional[Team], List[CsvProblem]]:
    """The team of one row, or what is wrong with the row."""
    problems: List[CsvProblem] = []
    used = set(columns.values())
    if any(cell.strip() for index, cell in enumerate(cells) if index not in used):
        problems.append(CsvProblem((line,), None, (
            "dòng có ô nằm ngoài các cột của tiêu đề (tên có dấu phẩy thì phải đặt trong ngoặc kép)"
        )))
    for name in REQUIRED_COLUMNS:
        if not values[name]:
            problems.append(CsvProblem((line,), name, MISSING[name]))
        elif len(values[name]) > MAX_LENGTH[name]:
            problems.append(CsvProblem((line,), name, (
                f"dài quá: {len(values[name])} ký tự, tối đa {MAX_LENGTH[name]}"
            )))
    commune = values["commune"]
    if commune and len(commune) <= MAX_LENGTH["commune"]:
        key = commune_key(commune)
        if not key or key in PREFIXES:
            problems.append(CsvProblem((line,), "commune", f'tên xã/phường "{commune}" không có chữ nào để tìm'))
        elif len(key) > MAX_LENGTH["commune"]:
            problems.append(CsvProblem((line,), "commune", "tên xã/phường dài quá"))
    phone_problem = _phone_problem(values["phone"]) if values["phone"] else None
    if phone_problem and len(values["phone"]) <= MAX_LENGTH["phone"]:
        problems.append(CsvProblem((line,), "phone", phone_problem))
    chat_id, chat_problem = _chat_id(values.get("telegram_chat_id", ""))
    if chat_problem:
        problems.append(CsvProblem((line,), "telegram_chat_id", chat_problem))
    if problems:
        return None, problems
    return Team(commune, values["team_name"], values["phone"], chat_id), []


def _phone_problem(phone: str) -> Optional[str]:
    """Why ``phone`` is not a Vietnamese phone number, or None."""
    example = "ví dụ 0912 345 678, +84 912 345 678 hoặc 1900 1234"
    if not _PHONE_SHAPE.match(phone) or not any(ch.isdigit() for ch in phone):
        return f'số điện thoại "{phone}" không hợp lệ: chỉ gồm chữ số, dấu cách, dấu chấm, gạch ngang ({example}); mỗi ô một số'
    digits = _PHONE_SEPARATORS.sub("", phone)
    if digits.startswith("+"):
        if not digits.startswith("+84"):
            return f'số điện thoại "{phone}": chỉ nhận số Việt Nam (+84)'
        digits = "0" + digits[3:].removeprefix("0")
    if not 8 <= len(digits) <= 11:
        return f'số điện thoại "{phone}" có {len(digits)} chữ số; cần từ 8 đến 11 chữ số ({example})'
    if not (digits.startswith("0") or digits.startswith(_HOTLINES)):
        return (
            f'số điện thoại "{phone}" phải bắt đầu bằng 0, +84, 1800 hoặc 1900 '
            f"(Excel có thể đã bỏ số 0 ở đầu; {TEXT_COLUMN_HINT})"
        )
    return None


def _chat_id(value: str) -> Tuple[Optional[int], Optional[str]]:
    """The Telegram group id (empty: none), or why it is not one."""
    if not value:
        return None, None
    example = "ví dụ -1001234567890 (để trống nếu tổ chưa có nhóm Telegram)"
    if _SCIENTIFIC.match(value):
        return None, f'"{value}" đã bị Excel đổi sang dạng số mũ, mất chữ số. {TEXT_COLUMN_HINT}'
    if not _INTEGER.match(value):
        return None, f'mã nhóm Telegram "{value}" phải là một số nguyên, {example}'
    number = int(value)
    if number >= 0:
        return None, f'mã nhóm Telegram "{value}" phải là số âm (mã của nhóm luôn có dấu trừ), {example}'
    if number < _BIGINT_MIN:
        return None, f'mã nhóm Telegram "{value}" dài quá, {example}'
    return number, None


def _duplicates(communes: List[Tuple[int, str]]) -> List[CsvProblem]:
    """Communes named on several lines (compared by commune_key: "Xã Tân Lập" = "xa tan lap")."""
    seen: Dict[str, List[Tuple[int, str]]] = {}
    for line, commune in communes:
        key = commune_key(commune)
        if key:
            seen.setdefault(key, []).append((line, commune))
    problems = []
    for group in seen.values():
        if len(group) > 1:
            names = ", ".join(f'"{commune}"' for _, commune in group)
            problems.append(CsvProblem(tuple(line for line, _ in group), "commune", (
                f"xã/phường bị trùng ({names}); mỗi xã/phường chỉ được một dòng"
            )))
    return problems
