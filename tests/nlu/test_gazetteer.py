from bot.nlu.gazetteer import DEFAULT_GAZETTEER_PATH, Gazetteer
from bot.nlu.normalizer import TextNormalizer

NORMALIZER = TextNormalizer.from_file()
GAZETTEER = Gazetteer.from_file(DEFAULT_GAZETTEER_PATH, NORMALIZER)


def entities(text):
    return [(e["entity"], e["value"], text[e["start"] : e["end"]]) for e in GAZETTEER.find(NORMALIZER.tokens(text))]


def test_bank_found_with_and_without_diacritics():
    assert entities("mở tài khoản ở ngân hàng nông nghiệp") == [("bank", "Agribank", "ngân hàng nông nghiệp")]
    assert entities("mo tk o ngan hang nong nghiep") == [("bank", "Agribank", "ngan hang nong nghiep")]
    assert entities("nh nong nghiep") == [("bank", "Agribank", "nh nong nghiep")]


def test_bill_type_found():
    assert entities("mã khách hàng tiền nước ở đâu") == [("bill_type", "water", "tiền nước")]
    assert entities("tra tien dien qua app") == [("bill_type", "electricity", "tien dien")]


def test_longest_match_wins():
    assert entities("ngân hàng chính sách xã hội") == [
        ("bank", "Ngân hàng Chính sách xã hội", "ngân hàng chính sách xã hội")
    ]


def test_nothing_found_in_unrelated_text():
    assert entities("điện thoại của tôi bị hỏng") == []
    assert entities("") == []
