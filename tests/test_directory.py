from bot.directory import Directory, Team, commune_key, default_directory


def directory():
    return Directory([
        Team("Xã Tân Lập", "Tổ A", "0200 000 0001"),
        Team("Phường Quang Trung", "Tổ B", "0200 000 0003", "-100"),
        Team("Xã Tân Lập Đông", "Tổ C", "0200 000 0009"),
    ])


def test_commune_key_drops_prefix_and_diacritics():
    assert commune_key("Xã Tân Lập") == "tan lap"
    assert commune_key("phuong quang trung") == "quang trung"


def test_find_typed_in_many_ways():
    d = directory()
    for typed in ["xa tan lap", "Tân Lập", "XÃ TÂN LẬP", "tan lapp"]:
        assert d.find(typed).team_name == "Tổ A", typed
    assert d.find("toi o phuong quang trung a").telegram_chat_id == "-100"


def test_ambiguous_or_unknown_gives_nothing():
    d = directory()
    assert d.find("") is None
    assert d.find("xa khong ton tai") is None
    # "tan lap dong" contains "tan lap" too: the exact name wins
    assert d.find("xa tan lap dong").team_name == "Tổ C"


def test_sample_file_is_marked_as_sample(monkeypatch):
    monkeypatch.delenv("TEAM_DIRECTORY_CSV", raising=False)
    teams = default_directory().teams
    assert teams and all(t.team_name.startswith("[MẪU]") for t in teams)
