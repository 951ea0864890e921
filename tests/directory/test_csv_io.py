import codecs

import pytest

from bot.directory import Team
from bot.directory.csv_io import DirectoryCsvError, dump, parse
from tests.conftest import ROOT

HEADER = "commune,team_name,phone,telegram_chat_id\n"
GOOD = HEADER + "Xã Tân Lập,Tổ công nghệ số xã Tân Lập,0912 345 678,-1001234567890\n"


def problems(text, encoding="utf-8"):
    with pytest.raises(DirectoryCsvError) as raised:
        parse(text.encode(encoding) if isinstance(text, str) else text)
    return [str(p) for p in raised.value.problems]


def test_a_good_file():
    assert parse(GOOD.encode()) == [Team("Xã Tân Lập", "Tổ công nghệ số xã Tân Lập", "0912 345 678", -1001234567890)]


def test_the_shipped_sample_is_valid_and_marked():
    teams = parse((ROOT / "data" / "team_directory.sample.csv").read_bytes())
    assert len(teams) == 6 and all(t.is_sample for t in teams)
    assert sum(t.telegram_chat_id is not None for t in teams) == 2


def test_column_order_is_free_and_chat_id_column_optional():
    teams = parse("phone,team_name,commune\n0912345678,Tổ A,Xã A\n".encode())
    assert teams == [Team("Xã A", "Tổ A", "0912345678", None)]


def test_cells_are_trimmed_and_nfc():
    decomposed = "Xa\u0303 Tân Lập"  # "Xã" typed with a combining tilde (macOS)
    teams = parse(f'{HEADER}"  {decomposed} "," Tổ   A ",0912345678,\n'.encode())
    assert teams[0].commune == "Xã Tân Lập" and teams[0].team_name == "Tổ A"


def test_missing_fields_name_the_line_and_column():
    text = HEADER + "Xã A,Tổ A,0912345678,\n,Tổ B,0912345679,\nXã C,,0912345670,\nXã D,Tổ D,,\n"
    assert problems(text) == [
        "Dòng 3, cột commune: thiếu tên xã/phường",
        "Dòng 4, cột team_name: thiếu tên tổ",
        "Dòng 5, cột phone: thiếu số điện thoại",
    ]


@pytest.mark.parametrize("phone", [
    "0912345678", "0912 345 678", "0912.345.678", "0912-345-678", "+84 912 345 678", "+84 (0) 912 345 678",
    "0203 3822 123", "1900 1234", "1800 1234 56", "(0203) 3822 123",
])
def test_vietnamese_phone_numbers(phone):
    assert parse(f"{HEADER}Xã A,Tổ A,{phone},\n".encode())[0].phone == phone


@pytest.mark.parametrize("phone, needle", [
    ("12345", "có 5 chữ số"),
    ("0912 345 678 999", "có 13 chữ số"),
    ("912345678", "bỏ số 0 ở đầu"),
    ("+1 202 555 0100", "chỉ nhận số Việt Nam"),
    ("09123abc78", "không hợp lệ"),
    ("0912345678 / 0987654321", "mỗi ô một số"),
    ("0912+345678", "không hợp lệ"),
])
def test_bad_phone_numbers(phone, needle):
    (problem,) = problems(f"{HEADER}Xã A,Tổ A,{phone},\n")
    assert problem.startswith("Dòng 2, cột phone: ") and needle in problem, problem


@pytest.mark.parametrize("chat_id, needle", [
    ("abc", "phải là một số nguyên"),
    ("1001234567890", "phải là số âm"),
    ("0", "phải là số âm"),
    ("-1.00123E+12", "dạng số mũ"),
    ("-1001234567890.5", "phải là một số nguyên"),
    ("-99999999999999999999", "dài quá"),
])
def test_bad_telegram_chat_ids(chat_id, needle):
    (problem,) = problems(f"{HEADER}Xã A,Tổ A,0912345678,{chat_id}\n")
    assert problem.startswith("Dòng 2, cột telegram_chat_id: ") and needle in problem, problem


def test_over_long_fields():
    text = f"{HEADER}{'Xã ' + 'A' * 130},{'T' * 201},{'0' * 33},\n"
    assert problems(text) == [
        "Dòng 2, cột commune: dài quá: 133 ký tự, tối đa 120",
        "Dòng 2, cột team_name: dài quá: 201 ký tự, tối đa 200",
        "Dòng 2, cột phone: dài quá: 33 ký tự, tối đa 32",
    ]


def test_a_commune_name_must_have_a_name_after_the_prefix():
    (problem,) = problems(f"{HEADER}Xã,Tổ A,0912345678,\n")
    assert problem.startswith("Dòng 2, cột commune:")


def test_duplicates_are_compared_without_diacritics_case_or_prefix():
    text = HEADER + "Xã Tân Lập,Tổ A,0912345678,\nXã Hòa Bình,Tổ B,0912345679,\nxa tan lap,Tổ C,0912345670,\nTÂN LẬP,Tổ D,0912345671,\n"
    (problem,) = problems(text)
    assert problem.startswith("Dòng 2, 4 và 5, cột commune: xã/phường bị trùng")
    assert '"Xã Tân Lập"' in problem and '"xa tan lap"' in problem


def test_a_duplicate_is_reported_even_on_a_row_with_another_problem():
    text = HEADER + "Xã Tân Lập,Tổ A,0912345678,\nxa tan lap,Tổ C,123,\n"
    assert problems(text) == [
        "Dòng 2 và 3, cột commune: xã/phường bị trùng (\"Xã Tân Lập\", \"xa tan lap\"); mỗi xã/phường chỉ được một dòng",
        "Dòng 3, cột phone: số điện thoại \"123\" có 3 chữ số; cần từ 8 đến 11 chữ số (ví dụ 0912 345 678, +84 912 345 678 hoặc 1900 1234)",
    ]


def test_every_bad_row_is_listed_with_its_line_number():
    text = HEADER + "Xã A,Tổ A,0912345678,\n\n,Tổ B,0912345679,\nXã C,Tổ C,abc,\nXã D,Tổ D,0912345670,-1\n"
    listed = problems(text)
    assert [p.split(",")[0] for p in listed] == ["Dòng 4", "Dòng 5"]  # the blank line 3 counts


def test_line_numbers_count_line_breaks_inside_quoted_cells():
    text = HEADER + '"Xã A","Tổ A\nthôn Đông",0912345678,\nXã B,Tổ B,12,\n'
    (problem,) = problems(text)
    assert problem.startswith("Dòng 4, cột phone")


def test_header_problems():
    assert problems("commune,team_name,phone,telegram_id\nXã A,Tổ A,0912345678,1\n") == [
        'Dòng 1: cột "telegram_id" không có trong mẫu; dòng tiêu đề chỉ gồm các cột commune, team_name, phone, telegram_chat_id'
    ]
    assert problems("commune,team_name\nXã A,Tổ A\n") == ["Dòng 1: dòng tiêu đề thiếu cột phone"]
    assert problems("Xã A,Tổ A,0912345678\n")[0].startswith("Dòng 1: không thấy dòng tiêu đề")
    assert problems("commune,phone,team_name,phone\nXã A,1,Tổ A,2\n") == ["Dòng 1, cột phone: cột này có hai lần trong dòng tiêu đề"]


def test_empty_trailing_columns_of_excel_are_ignored_but_not_stray_values():
    assert len(parse("commune,team_name,phone,telegram_chat_id,,\nXã A,Tổ A,0912345678,,,\n,,,,,\n".encode())) == 1
    listed = problems(HEADER + "Xã A,Tổ A,0912 345,678,-100\n")  # an unquoted comma shifts the cells
    assert listed[0].startswith("Dòng 2: dòng có ô nằm ngoài các cột") and len(listed) == 3


def test_a_file_without_rows_or_empty_is_refused():
    assert problems(HEADER) == ["tệp không có dòng dữ liệu nào (danh bạ không được để trống)"]
    assert problems("")[0].startswith("Tệp không đọc được: tệp trống")
    assert problems("\n\n")[0].startswith("Tệp không đọc được: tệp trống")


def test_utf8_with_and_without_bom():
    assert parse(codecs.BOM_UTF8 + GOOD.encode()) == parse(GOOD.encode())


def test_utf16_with_bom_tab_separated_as_excel_unicode_text():
    data = GOOD.replace(",", "\t").replace("\n", "\r\n").encode("utf-16")  # BOM + UTF-16-LE
    assert data.startswith(codecs.BOM_UTF16_LE)
    assert parse(data) == parse(GOOD.encode())
    assert parse(codecs.BOM_UTF16_BE + GOOD.encode("utf-16-be")) == parse(GOOD.encode())


@pytest.mark.parametrize("encoding", ["cp1258", "cp1252", "latin-1"])
def test_legacy_encodings_are_refused_with_a_hint(encoding):
    (problem,) = problems((HEADER + "Tân,Tô A,0912345678,\n").encode(encoding))
    assert problem.startswith("Dòng 2: tệp không được lưu bằng mã UTF-8") and "CSV UTF-8" in problem


def test_utf16_without_bom_and_xlsx_are_refused():
    assert "CSV UTF-8" in problems(GOOD.encode("utf-16-le"))[0]
    assert "UTF-16 thiếu BOM" in problems(HEADER.encode("utf-16-le"))[0]  # ASCII only: valid UTF-8 with NULs
    assert ".xlsx" in problems(b"PK\x03\x04rest of a zip")[0]


@pytest.mark.parametrize("delimiter", [";", "\t", ","])
def test_delimiter_is_told_by_the_header(delimiter):
    text = GOOD.replace(",", delimiter) + f"Xã B{delimiter}Tổ B, thôn 1{delimiter}0912345679{delimiter}\n"
    if delimiter == ",":
        text = GOOD + 'Xã B,"Tổ B, thôn 1",0912345679,\n'
    teams = parse(text.encode())
    assert [t.team_name for t in teams] == ["Tổ công nghệ số xã Tân Lập", "Tổ B, thôn 1"]


def test_dump_is_utf8_with_bom_and_round_trips():
    teams = [
        Team("Xã Tân Lập", 'Tổ "Tân Lập", thôn 1; 2', "+84 912 345 678", -1001234567890),
        Team("Phường Quang Trung", "[MẪU] Tổ B", "1900 1234", None),
    ]
    data = dump(teams)
    assert data.startswith(codecs.BOM_UTF8)
    assert data.decode("utf-8-sig").splitlines()[0] == "commune,team_name,phone,telegram_chat_id"
    assert parse(data) == teams


def test_dump_neutralises_cells_a_spreadsheet_would_run_and_reads_them_back():
    teams = [
        Team("Xã Tân Lập", "=HYPERLINK(\"http://evil\")", "+84 912 345 678", -1001234567890),
        Team("Phường Quang Trung", "@SUM(A1)", "0912345678", None),
    ]
    cells = [row.split(",") for row in dump(teams).decode("utf-8-sig").splitlines()[1:]]
    assert cells[0][1].startswith("\"'=HYPERLINK") and cells[0][2] == "+84 912 345 678" and cells[0][3] == "-1001234567890"
    assert cells[1][1] == "'@SUM(A1)"
    assert parse(dump(teams)) == teams


@pytest.mark.parametrize("value", ["=1+1", "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\t=1+1", "\r=1+1"])
def test_formula_starts_get_an_apostrophe(value):
    from bot.csv_safety import spreadsheet_safe, unneutralise

    assert spreadsheet_safe(value) == "'" + value
    assert unneutralise(spreadsheet_safe(value)) == value
