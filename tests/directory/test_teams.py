from bot.directory import Directory, Team, commune_key, in_sentence


def directory():
    return Directory([
        Team("Xã Tân Lập", "Tổ A", "0200 000 0001"),
        Team("Phường Quang Trung", "Tổ B", "0200 000 0003", -1001000000003),
        Team("Xã Tân Lập Đông", "Tổ C", "0200 000 0009"),
    ])


def test_commune_key_drops_prefix_and_diacritics():
    assert commune_key("Xã Tân Lập") == "tan lap"
    assert commune_key("phuong quang trung") == "quang trung"
    assert commune_key("Thị trấn Yên Hòa") == commune_key("yen hoa")


def test_find_typed_in_many_ways():
    d = directory()
    for typed in ["xa tan lap", "Tân Lập", "XÃ TÂN LẬP", "tan lapp"]:
        assert d.find(typed).team_name == "Tổ A", typed
    assert d.find("toi o phuong quang trung a").telegram_chat_id == -1001000000003


def test_ambiguous_or_unknown_gives_nothing():
    d = directory()
    assert d.find("") is None
    assert d.find("xa khong ton tai") is None
    # "tan lap dong" contains "tan lap" too: the exact name wins
    assert d.find("xa tan lap dong").team_name == "Tổ C"
    # both "tan lap" and "quang trung" named: no guess
    assert d.find("tan lap hay quang trung") is None


def test_sample_rows_are_told_apart():
    assert Team("Xã A", "[MẪU] Tổ A", "0200 000 0001").is_sample
    assert Team("Xã A", "[mẫu] Tổ A", "0200 000 0001").is_sample
    assert not Team("Xã A", "Tổ A", "0200 000 0001").is_sample
    assert Directory([Team("Xã A", "Tổ A", "0200"), Team("Xã B", "[MẪU] B", "0200")]).is_sample
    assert not directory().is_sample


def test_in_sentence():
    assert in_sentence("Xã Tân Lập") == "xã Tân Lập"
    assert in_sentence("Phường Quang Trung") == "phường Quang Trung"
    assert in_sentence("Thị trấn Yên Hòa") == "thị trấn Yên Hòa"
    assert in_sentence("Tân Lập") == "Tân Lập"
