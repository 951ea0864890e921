"""Personal data is masked before a message reaches the question log; look-alikes survive."""
import re

import pytest

from bot.questionlog.masking import PLACEHOLDERS, found_kinds, mask

# (message, the personal data in it, kind). The expected result is the message
# with exactly that substring replaced by the kind's placeholder.
PERSONAL = [
    # Citizen ID (CCCD), 12 digits
    ("so cccd cua bac la 001099012345 nhe", "001099012345", "CCCD"),
    ("Số CCCD: 001 099 012 345", "001 099 012 345", "CCCD"),
    ("căn cước của tôi 0010.9901.2345 ạ", "0010.9901.2345", "CCCD"),
    ("cccd 079-203-012-345 bi mat roi", "079-203-012-345", "CCCD"),
    ("cccd:001099012345", "001099012345", "CCCD"),
    ("CCCD(001099012345)", "001099012345", "CCCD"),
    ("001099012345 la so can cuoc cua em", "001099012345", "CCCD"),
    ("Tôi tên Lan, 036185001234.", "036185001234", "CCCD"),
    ("so dinh danh ca nhan 038095004321 de dang ky vneid", "038095004321", "CCCD"),
    ("Căn cước 079 203 012 345, cấp ngày 12/05/2021", "079 203 012 345", "CCCD"),
    ("cho hỏi số 123456789012 có đúng không", "123456789012", "CCCD"),
    # Old ID (CMND), 9 digits
    ("so cmnd 123456789", "123456789", "CMND"),
    ("CMND số 023.456.789 cấp năm 2010", "023.456.789", "CMND"),
    ("chứng minh nhân dân: 012 345 678", "012 345 678", "CMND"),
    ("cmt 024567891 het han roi", "024567891", "CMND"),
    ("Bác gửi số 212345678 nhé", "212345678", "CMND"),
    ("cmnd:271234567.", "271234567", "CMND"),
    # Phone numbers
    ("Số điện thoại: +84 912 345 678.", "+84 912 345 678", "SĐT"),
    ("sdt +84912345678 nhe", "+84912345678", "SĐT"),
    ("goi cho toi so 84912345678", "84912345678", "SĐT"),
    ("sđt 0912.345.678 ạ", "0912.345.678", "SĐT"),
    ("sdt 0912-345-678", "0912-345-678", "SĐT"),
    ("Liên hệ (028) 3822 1234 giờ hành chính", "(028) 3822 1234", "SĐT"),
    ("so may ban 024.3822.1234", "024.3822.1234", "SĐT"),
    ("0912345678 la so cua chau", "0912345678", "SĐT"),
    ("sdt0912345678", "0912345678", "SĐT"),
    ("Bác ơi sđt của cháu là 0987.654.321 ạ", "0987.654.321", "SĐT"),
    ("zalo 0356 123 456 nha", "0356 123 456", "SĐT"),
    ("Cháu gọi 0912 345 678 không được", "0912 345 678", "SĐT"),
    ("so dt cu cua toi 01234567890", "01234567890", "SĐT"),
    ("tôi tên Hùng,0912345678", "0912345678", "SĐT"),
    ("nhan tin vao so 0 9 1 2 3 4 5 6 7 8 nhe", "0 9 1 2 3 4 5 6 7 8", "SĐT"),
    ("(+84) 912 345 678 la so cua toi", "(+84) 912 345 678", "SĐT"),
    ("sdt 0912345678 k lien lac duoc", "0912345678", "SĐT"),
    ("link zalo.me/0912345678 nhé", "0912345678", "SĐT"),
    ("sinh năm 1990 0912345678", "0912345678", "SĐT"),
    # Bank account numbers
    ("stk vcb 0123456789012 ạ", "0123456789012", "STK"),
    ("so tai khoan 1903 6543 2100 12 techcombank", "1903 6543 2100 12", "STK"),
    ("số tài khoản của tôi là 0071000123456", "0071000123456", "STK"),
    ("tk 12345678 agribank", "12345678", "STK"),
    ("stk: 0912345678 mb bank", "0912345678", "STK"),
    ("Chuyển vào tài khoản 19036543210012 giúp tôi", "19036543210012", "STK"),
    ("account 123456789012345", "123456789012345", "STK"),
    ("tôi có 12345678901234 trong sổ", "12345678901234", "STK"),
    ("ngân hàng BIDV 31410001234567", "31410001234567", "STK"),
    # Card numbers
    ("the atm 9704 1234 5678 9012 bi khoa", "9704 1234 5678 9012", "THẺ"),
    ("thẻ visa 4532 0151 1283 0366 bị trừ tiền", "4532 0151 1283 0366", "THẺ"),
    ("so the 4111111111111111", "4111111111111111", "THẺ"),
    ("4111-1111-1111-1111 la the cua me toi", "4111-1111-1111-1111", "THẺ"),
    ("the napas 9704000000000018123", "9704000000000018123", "THẺ"),
    ("thẻ 1234 5678 9012 3456 của tôi", "1234 5678 9012 3456", "THẺ"),
    ("so 4532015112830366 la gi", "4532015112830366", "THẺ"),
    # OTP, PIN, passwords
    ("ma otp 482913 la gi", "482913", "OTP"),
    ("mã OTP là 123456", "123456", "OTP"),
    ("otp 4821", "4821", "OTP"),
    ("123456 la ma otp", "123456", "OTP"),
    ("ma xac thuc: 889900", "889900", "OTP"),
    ("mk cua toi la 123456", "123456", "OTP"),
    ("Mã xác nhận của bạn là 5521, đừng chia sẻ", "5521", "OTP"),
    ("ma pin the la 1234", "1234", "OTP"),
    ("mat khau 86750912", "86750912", "OTP"),
    ("ma cua ban la 123456, khong chia se otp cho ai", "123456", "OTP"),
    ("otp: 12 34 56", "12 34 56", "OTP"),
    ("OTP:482913", "482913", "OTP"),
    ("code 778899 nhe", "778899", "OTP"),
    ("smart otp 12345678", "12345678", "OTP"),
    ("password: Abc@12345", "Abc@12345", "OTP"),
    ("mật khẩu là Hoang@2024!", "Hoang@2024", "OTP"),
    ("mk moi la hoanganh nhe", "hoanganh", "OTP"),
    ("mat khau cua toi la abcdef", "abcdef", "OTP"),
    ("otp: A1B2C3", "A1B2C3", "OTP"),
    # E-mail addresses
    ("email nguyen.van.a@gmail.com nhé", "nguyen.van.a@gmail.com", "EMAIL"),
    ("Email: ABC.Def@Yahoo.com.vn", "ABC.Def@Yahoo.com.vn", "EMAIL"),
    ("gửi về lan_tran1990@outlook.com giúp em", "lan_tran1990@outlook.com", "EMAIL"),
    ("(hungpv@hanoi.gov.vn)", "hungpv@hanoi.gov.vn", "EMAIL"),
    ("mail:abc+xyz@mail.vn.", "abc+xyz@mail.vn", "EMAIL"),
    # Forms that were stored unmasked before (issue 13): an OTP read out without the word,
    # other separators, full-width digits, zero-width spaces, CVV/CVC, numbers spelt in words
    ("họ bảo đọc 6 số 482913", "482913", "OTP"),
    ("nó bảo đọc lại mã vừa nhận: 739104", "739104", "OTP"),
    ("anh ấy bảo gửi mã 5521 qua zalo", "5521", "OTP"),
    ("sdt 0912  345  678", "0912  345  678", "SĐT"),
    ("số của tôi 0912\t345\t678", "0912\t345\t678", "SĐT"),
    ("sđt 0912 - 345 - 678 nhé", "0912 - 345 - 678", "SĐT"),
    ("gọi 0912/345/678", "0912/345/678", "SĐT"),
    ("sdt 0912_345_678", "0912_345_678", "SĐT"),
    ("cccd 079 - 203 - 012 - 345", "079 - 203 - 012 - 345", "CCCD"),
    ("stk 1903  6543  2100  12 techcombank", "1903  6543  2100  12", "STK"),
    ("sđt ０９１２３４５６７８ ạ", "０９１２３４５６７８", "SĐT"),
    ("cccd ００１０９９０１２３４５", "００１０９９０１２３４５", "CCCD"),
    ("số em 0912\u200b345\u200b678", "0912\u200b345\u200b678", "SĐT"),
    ("otp 48\u200b29\u200b13", "48\u200b29\u200b13", "OTP"),
    ("thẻ 4111\u00ad1111\u00ad1111\u00ad1111", "4111\u00ad1111\u00ad1111\u00ad1111", "THẺ"),
    ("cvv 123", "123", "THẺ"),
    ("mã CVV là 4567", "4567", "THẺ"),
    ("CVC: 908", "908", "THẺ"),
    ("nhập 3 số mặt sau thẻ 321 vào đây à", "321", "THẺ"),
    ("số em là không chín một hai ba bốn năm sáu bảy tám nhé", "không chín một hai ba bốn năm sáu bảy tám", "SĐT"),
    ("mã là bốn tám hai chín một ba", "bốn tám hai chín một ba", "OTP"),
    ("cccd không không một không chín chín không một hai ba bốn năm", "không không một không chín chín không một hai ba bốn năm", "CCCD"),
    ("khong chin mot hai, ba bon nam, sau bay tam", "khong chin mot hai, ba bon nam, sau bay tam", "SĐT"),
]

# Messages that contain nothing personal and must be stored exactly as typed.
LOOK_ALIKES = [
    # dates and years
    "hạn nộp 25/11/2026",
    "từ 1/7/2025 áp dụng",
    "ngày 15-01-2025 tôi nộp hồ sơ",
    "hiệu lực 2025-07-01",
    "sinh ngày 01.02.1990",
    "năm 2025 có thay đổi gì",
    "các năm 2024 2025 2026 2027",
    # amounts
    "lệ phí 500.000 đ",
    "hết 500.000đ",
    "1.500.000 đồng một tháng",
    "10.000.000 ₫",
    "lương 20 triệu",
    "khoảng 2,5 triệu",
    "300k",
    "1tr5",
    "100.000 VND",
    "150.000.000 đồng",
    "giá 150.000.000",
    "tổng 1 500 000 đ",
    "phí 1.200.000đ/tháng",
    "thu nhập 5-7 triệu",
    "chuyển khoản 2.000.000đ",
    # dossier, receipt, bill and document codes
    "Mã hồ sơ H12.34-250101-0001",
    "hồ sơ 000.00.12.H45-250115-0003 đến đâu rồi",
    "mã thanh toán PE0100012345",
    "mã khách hàng PA01XX0012345",
    "ma giao dich FT24001234567 thanh cong",
    "Quyết định số 1234/QĐ-UBND",
    "số nhà 123/45 đường Lê Lợi",
    "biển số 51F-123.45",
    "mã bưu chính 700000",
    "mã hồ sơ 12345678",
    # hotlines and emergency numbers
    "gọi 1900 1234",
    "tổng đài 1800 1091 miễn phí",
    "hotline 1900 5454 32",
    "sdt tong dai 1900.1234",
    "gọi 113, 114, 115 hoặc 111",
    # times, counts, steps, percentages, units
    "mở cửa lúc 8h30",
    "08:30 sáng mai",
    "nhập sai 3 lần",
    "bước 2 làm gì",
    "giảm 5%",
    "pin dự phòng 10000mAh",
    "otp het han sau 5 phut",
    # questions about secrets, with no secret in them
    "mat khau la gi",
    "mật khẩu là gì vậy",
    "toi quen mat khau roi",
    "sdt cua mk bi khoa",
    # placeholders already there
    "[SĐT] [CCCD] [OTP] [STK] [THẺ] [CMND] [EMAIL]",
    # look-alikes written with the separators and digits that personal data now may use (issue 13)
    "hạn nộp 25 / 11 / 2026",
    "ngày 01 - 07 - 2025 sáp nhập tỉnh",
    "từ ngày ０１/０７/２０２５",
    "lệ phí 500.000\u200b đ",
    "tổng  1 500 000  đồng",
    "tiền điện tháng 11 là 350.000đ",
    "phí 1.200.000 đ - 1.500.000 đ",
    "mã hồ sơ 000.00.19.H26-250101-0001",
    "mã khách hàng PE0100012345 tiền điện",
    "mã hóa đơn PD13000123456",
    "Nghị định 13/2023/NĐ-CP",
    "Quyết định 1234/QĐ-UBND ngày 5/6/2025",
    "hotline 1900 - 1234",
    "tổng đài 1800 1091 hoặc 1900 9095",
    "đường dây nóng 111 và 113",
    "làm việc 7:30 - 11:30, 13:30 - 17:00",
    "ba bốn năm nay tôi ở đây",
    "tôi có hai ba con, năm sau sẽ về",
    "mẹ tôi bảy mươi tám tuổi",
    "đọc kỹ hướng dẫn trước khi làm",
    "có 2 - 3 bước thôi",
    "trang 12/45",
    "giá 1.500.000đ / tháng",
]

TWO_OR_MORE = [
    ("Số CCCD: 001099012345, SĐT: 0912345678", "Số CCCD: [CCCD], SĐT: [SĐT]", ["CCCD", "SĐT"]),
    ("stk 0123456789012 va ma otp 482913", "stk [STK] va ma otp [OTP]", ["STK", "OTP"]),
    (
        "email a.b@gmail.com, sdt 0912 345 678, the 9704 1234 5678 9012",
        "email [EMAIL], sdt [SĐT], the [THẺ]",
        ["EMAIL", "SĐT", "THẺ"],
    ),
    ("cmnd 123456789 va so dien thoai +84 987 654 321", "cmnd [CMND] va so dien thoai [SĐT]", ["CMND", "SĐT"]),
    (
        "Nộp 500.000đ vào stk 0123456789012 trước 25/11/2026, mã OTP là 4821",
        "Nộp 500.000đ vào stk [STK] trước 25/11/2026, mã OTP là [OTP]",
        ["STK", "OTP"],
    ),
    ("gui toi 0912 345 678, 0987654321", "gui toi [SĐT], [SĐT]", ["SĐT", "SĐT"]),
]


def digits(text):
    return re.sub(r"\D", "", text)


def test_the_corpus_is_big_enough():
    assert len(PERSONAL) >= 60 and len(LOOK_ALIKES) >= 30
    assert {kind for _, _, kind in PERSONAL} == set(PLACEHOLDERS)


@pytest.mark.parametrize("text, secret, kind", PERSONAL, ids=[t for t, _, _ in PERSONAL])
def test_personal_data_is_masked(text, secret, kind):
    assert secret in text  # the case itself is well formed
    masked = mask(text)
    assert masked == text.replace(secret, PLACEHOLDERS[kind])
    assert secret not in masked
    if digits(secret):
        assert digits(secret) not in digits(masked)
    assert found_kinds(text) == [kind]


@pytest.mark.parametrize("text", LOOK_ALIKES)
def test_look_alikes_survive(text):
    assert mask(text) == text
    assert found_kinds(text) == []


@pytest.mark.parametrize("text, expected, kinds", TWO_OR_MORE)
def test_several_kinds_in_one_message(text, expected, kinds):
    assert mask(text) == expected
    assert found_kinds(text) == kinds


@pytest.mark.parametrize(
    "text, has_personal_data",
    [(t, True) for t, _, _ in PERSONAL] + [(t, True) for t, _, _ in TWO_OR_MORE] + [(t, False) for t in LOOK_ALIKES],
)
def test_masking_twice_changes_nothing(text, has_personal_data):
    once = mask(text)
    assert (once != text) == has_personal_data
    assert mask(once) == once
    assert found_kinds(once) == []


def test_placeholders_are_short_uppercase_vietnamese():
    assert PLACEHOLDERS == {
        "CCCD": "[CCCD]", "CMND": "[CMND]", "SĐT": "[SĐT]", "STK": "[STK]",
        "THẺ": "[THẺ]", "OTP": "[OTP]", "EMAIL": "[EMAIL]",
    }


def test_mask_keeps_the_rest_of_the_message_exactly():
    text = "Chào  anh,\nSĐT của  Bà Ngoại là 0912 345 678 — gọi giúp nhé!! 🙏"
    assert mask(text) == "Chào  anh,\nSĐT của  Bà Ngoại là [SĐT] — gọi giúp nhé!! 🙏"


def test_decomposed_diacritics_still_find_keywords():
    import unicodedata

    text = unicodedata.normalize("NFD", "mật khẩu của tôi là 123456, số tài khoản 12345678")
    assert mask(text) == unicodedata.normalize("NFD", "mật khẩu của tôi là [OTP], số tài khoản [STK]")


def test_a_word_before_the_code_decides_its_kind():
    # 'mã' alone is only an OTP word when the sentence talks about an OTP.
    assert mask("mã của bạn là 482913, không chia sẻ OTP") == "mã của bạn là [OTP], không chia sẻ OTP"
    assert mask("mã của bạn là 482913") == "mã của bạn là 482913"
    # 'cua mk' is 'của mình' (mine), not 'mật khẩu'.
    assert mask("sdt cua mk la 0912345678") == "sdt cua mk la [SĐT]"


@pytest.mark.parametrize("text", ["", None])
def test_empty_messages(text):
    assert mask(text) == text
    assert found_kinds(text) == []
