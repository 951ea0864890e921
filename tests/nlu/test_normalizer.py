import unicodedata

import pytest

from bot.nlu.normalizer import (
    DEFAULT_DATA_PATH,
    TextNormalizer,
    fold_diacritics,
    fold_word,
    nfc_lower,
    normalize,
    squash_repeats,
)


def test_nfc_joins_decomposed_vietnamese():
    decomposed = unicodedata.normalize("NFD", "Hòa Bình")
    assert decomposed != "Hòa Bình"
    assert nfc_lower(decomposed) == "hòa bình"


@pytest.mark.parametrize(
    "text, folded",
    [
        ("Điện thoại", "Dien thoai"),
        ("đăng ký định danh", "dang ky dinh danh"),
        ("Ủy ban nhân dân xã", "Uy ban nhan dan xa"),
        ("trợ cấp hưu trí", "tro cap huu tri"),
        ("ngân hàng", "ngan hang"),
    ],
)
def test_fold_diacritics(text, folded):
    assert fold_diacritics(text) == folded


def test_old_and_new_tone_placement_fold_to_the_same_word():
    assert fold_word("hoà") == fold_word("hòa") == "hoa"
    assert fold_word("thuý") == fold_word("thúy") == "thuy"


@pytest.mark.parametrize(
    "word, squashed",
    [("dcccc", "dc"), ("kooo", "ko"), ("alooo", "alo"), ("okk", "ok"), ("xoong", "xoong"), ("huu", "huu")],
)
def test_squash_repeats(word, squashed):
    assert squash_repeats(word) == squashed


def test_abbreviations_expand_from_the_data_file():
    assert normalize("mo tk ngan hang ko dc") == "mo tai khoan ngan hang khong duoc"
    assert normalize("sdt cua ubnd") == "so dien thoai cua uy ban nhan dan"
    assert normalize("lam ntn") == "lam nhu the nao"


def test_stretched_abbreviation_is_still_recognised():
    assert normalize("kooo dcccc") == "khong duoc"


def test_typed_with_and_without_diacritics_normalise_the_same():
    assert normalize("Mở tài khoản ngân hàng không được") == normalize("mo tai khoan ngan hang khong duoc")


def test_units_after_numbers_are_not_read_as_abbreviations():
    assert normalize("chuyen 500k") == "chuyen 500 nghin"
    assert normalize("k biet") == "khong biet"
    assert normalize("10tr") == "10 trieu"


def test_emoji_with_meaning_become_words_and_others_vanish():
    assert normalize("👍") == "ok"
    assert normalize("🙏🙏") == "cam on cam on"
    assert normalize("😀🎉") == ""


def test_spans_point_at_the_original_text():
    text = "Mở TK ở Agribank"
    tokens = TextNormalizer.from_file().tokens(text)
    assert [t.text for t in tokens] == ["mo", "tai", "khoan", "o", "agribank"]
    assert text[tokens[1].start : tokens[1].end] == "TK"
    assert text[tokens[4].start : tokens[4].end] == "Agribank"


def test_written_view_keeps_the_diacritics_that_tell_words_apart():
    normalizer = TextNormalizer.from_file()
    sold, table = normalizer.tokens("Bán"), normalizer.tokens("bàn")
    assert [t.written for t in sold] == ["bán"] and [t.written for t in table] == ["bàn"]
    assert [t.text for t in sold] == [t.text for t in table] == ["ban"]
    assert normalizer.written("Mất mật khẩu") == "mất mật khẩu"
    assert normalizer.normalize("Mất mật khẩu") == normalizer.normalize("mat mat khau") == "mat mat khau"


def test_written_view_is_nfc_lower_expanded_and_squashed():
    normalizer = TextNormalizer.from_file()
    decomposed = unicodedata.normalize("NFD", "Hòa Bình")
    assert normalizer.written(decomposed) == "hòa bình"
    assert normalizer.written("Mở TK ko đcccc") == "mở tài khoản không được"
    assert normalizer.written("kooo dc 500k 👍") == "không được 500 nghìn ok"
    assert normalizer.written("quạtttt xoong") == "quạt xoong"


def test_both_views_have_the_same_tokens_and_spans():
    text = "Mở TK ở Agribank, ko đc 👍"
    tokens = TextNormalizer.from_file().tokens(text)
    assert [fold_word(t.written) for t in tokens] == [t.text for t in tokens]
    assert text[tokens[1].start : tokens[1].end] == text[tokens[2].start : tokens[2].end] == "TK"


def test_long_messages_are_capped():
    normalizer = TextNormalizer(max_tokens=50)
    assert len(normalizer.tokens("chữ " * 5000)) == 50


def test_empty_and_punctuation_only_give_no_tokens():
    normalizer = TextNormalizer.from_file()
    assert normalizer.tokens("") == []
    assert normalizer.tokens("?!... ---") == []


def test_ambiguous_keys_are_refused():
    with pytest.raises(ValueError, match="same key"):
        TextNormalizer(abbreviations={"đc": "được", "dc": "địa chỉ"})
    with pytest.raises(ValueError, match="one word"):
        TextNormalizer(abbreviations={"tai khoan": "tk"})


def test_shipped_data_file_loads_and_has_the_catalogue_abbreviations():
    table = TextNormalizer.from_file(DEFAULT_DATA_PATH).abbreviations
    for key in ["ko", "k", "dc", "tk", "nh", "ng", "j", "ntn", "sdt", "hs", "tc", "ck"]:
        assert key in table, key


def test_tin_nhan_is_not_expanded():
    """'ttin' squashed to 'tin' and turned every "tin nhắn" into "thông tin nhắn"."""
    assert normalize("tin nhắn lạ") == "tin nhan la"
    assert normalize("Tin nhan bao trung thuong") == "tin nhan bao trung thuong"


def test_a_key_that_is_a_real_word_is_refused():
    with pytest.raises(ValueError, match="real word"):
        TextNormalizer(abbreviations={"ttin": "thông tin", "ko": "không"})


def test_a_letter_held_down_is_noise_not_an_abbreviation():
    from bot.nlu.normalizer import default_normalizer

    normalizer = default_normalizer()
    assert normalizer.normalize("z") == "vay"  # 'z' is short for 'vậy'
    assert normalizer.normalize("zzzz mmmm") == "z m"  # but 'zzzz' is someone leaning on a key
    assert normalizer.normalize("kooo dcccc") == "khong duoc"  # stretched abbreviations still expand
