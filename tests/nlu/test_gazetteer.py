from bot.nlu.gazetteer import DEFAULT_GAZETTEER_PATH, Gazetteer
from bot.nlu.normalizer import TextNormalizer

NORMALIZER = TextNormalizer.from_file()
GAZETTEER = Gazetteer.from_file(DEFAULT_GAZETTEER_PATH, NORMALIZER)


def entities(text):
    return [(e["entity"], e["value"], text[e["start"] : e["end"]]) for e in GAZETTEER.find(NORMALIZER.tokens(text))]


def test_bank_found_with_and_without_diacritics():
    assert entities("mở tài khoản ở ngân hàng nông nghiệp") == [
        ("journey_name", "open_account", "mở tài khoản"),
        ("bank", "Agribank", "ngân hàng nông nghiệp"),
    ]
    assert ("bank", "Agribank", "ngan hang nong nghiep") in entities("mo tk o ngan hang nong nghiep")
    assert entities("nh nong nghiep") == [("bank", "Agribank", "nh nong nghiep")]


def test_bill_type_found():
    assert ("bill_type", "water", "tiền nước") in entities("mã khách hàng tiền nước ở đâu")
    assert ("bill_type", "electricity", "tien dien") in entities("tra tien dien qua app")


def test_entity_types_are_matched_independently():
    assert entities("huong dan tung buoc tra tien dien") == [
        ("journey_name", "pay_bill", "tra tien dien"),
        ("bill_type", "electricity", "tien dien"),
    ]
    assert entities("chỉ từng bước cài VNeID") == [("journey_name", "vneid_portal", "VNeID")]


def test_longest_match_wins():
    assert entities("ngân hàng chính sách xã hội") == [
        ("bank", "Ngân hàng Chính sách xã hội", "ngân hàng chính sách xã hội")
    ]


def test_nothing_found_in_unrelated_text():
    assert entities("điện thoại của tôi bị hỏng") == []
    assert entities("") == []
