from bot.text_variants import variants


def test_variants():
    assert variants("mở tài khoản") == ["with_diacritics"]
    assert variants("mo tai khoan") == ["no_diacritics"]
    assert variants("mo tk ko dc") == ["no_diacritics", "teencode"]
    assert variants("quên mk app") == ["with_diacritics", "teencode"]
