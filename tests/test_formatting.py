import datetime

from bot.formatting import amounts_in, format_long_date, format_vnd

NBSP = "\xa0"


def test_amounts_use_dots_and_the_dong_sign():
    assert format_vnd(10_000_000) == f"10.000.000{NBSP}₫"
    assert format_vnd(500_000) == f"500.000{NBSP}₫"
    assert format_vnd(0) == f"0{NBSP}₫"


def test_long_date_in_vietnamese():
    assert format_long_date(datetime.date(2026, 11, 25)) == "Thứ Tư, ngày 25 tháng 11 năm 2026"
    assert format_long_date(datetime.date(2025, 7, 1)) == "Thứ Ba, ngày 1 tháng 7 năm 2025"
    assert format_long_date(datetime.date(2026, 11, 29)) == "Chủ Nhật, ngày 29 tháng 11 năm 2026"


def test_amounts_in_text_are_compared_with_babel():
    written, babel = amounts_in(f"chuyển trên 10.000.000{NBSP}₫ một lần")[0]
    assert written.replace(NBSP, " ") == babel.replace(NBSP, " ")
    written, babel = amounts_in("phí 1.000 ₫")[0]
    assert written == "1.000 ₫" and babel == f"1.000{NBSP}₫"


def test_domain_amounts_are_babel_formatted(domain):
    for name, variations in domain.responses.items():
        for variation in variations:
            for written, babel in amounts_in(variation.get("text") or ""):
                assert written.replace(NBSP, " ") == babel.replace(NBSP, " "), name
