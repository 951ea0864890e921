"""The resident's form of address: read from their words, said instead of "anh/chị"."""
import pytest

from bot.answers.addressing import address_responses, detect, rewrite


@pytest.mark.parametrize("text, form", [
    ("bác muốn hỏi cách trả tiền nước", "bac"),
    ("cháu ơi, chỉ giúp với", "bac"),  # calls the assistant "cháu": an elder
    ("con ơi trả tiền điện sao con", "bac"),
    ("cô hỏi cái này chút", "co"),
    ("hướng dẫn cô với", "co"),
    ("cho chú hỏi cách mở tài khoản", "chu"),
    ("ông không biết dùng điện thoại", "ong"),
    ("Bà muốn nhận lương hưu qua ngân hàng", "ba"),
    ("Dạ bà cảm ơn cháu", "ba"),
    ("anh cần làm lại thẻ", "anh"),
    ("em ơi chỉ anh với", "anh"),
    ("chị cần mở thẻ", "chi"),
    ("cháu ơi, bác muốn trả tiền nước", "bac"),
    ("bac muon tra tien nuoc", "bac"),  # typed without diacritics
    ("ong muon hoi cai nay", "ong"),
])
def test_a_form_the_message_makes_clear(text, form):
    assert detect(text) == form


@pytest.mark.parametrize("text", [
    "tui muốn trả tiền điện",  # "tui": no age, no gender
    "tôi cần mở tài khoản",
    "con muốn hỏi",
    "làm sao để nhận tiền",
    "giúp bà nội tôi mở tài khoản",  # somebody else
    "anh trai tôi bị khóa app",
    "bà con hỏi nhiều",  # "bà con": the people
    "trợ cấp cho ông bà",
    "chuyển tiền cho bà",
    "có muốn hỏi",  # folded "co" is "có"
    "/ask_pay_water",  # a button
    "",
])
def test_no_clear_form_keeps_the_neutral_one(text):
    assert detect(text) is None


@pytest.mark.parametrize("form, said", [
    ("bac", "Dạ, bác cần mã. Bác gọi số."), ("co", "Dạ, cô cần mã. Cô gọi số."), ("chu", "Dạ, chú cần mã. Chú gọi số."),
    ("ong", "Dạ, ông cần mã. Ông gọi số."), ("ba", "Dạ, bà cần mã. Bà gọi số."), ("anh", "Dạ, anh cần mã. Anh gọi số."),
    ("chi", "Dạ, chị cần mã. Chị gọi số."), (None, "Dạ, anh/chị cần mã. Anh/chị gọi số."),
])
def test_rewrite_says_the_form_and_keeps_capitals(form, said):
    assert rewrite("Dạ, anh/chị cần mã. Anh/chị gọi số.", form) == said


def test_action_results_take_the_form_the_action_sets_or_the_trackers():
    result = {"events": [], "responses": [{"text": "Anh/chị chọn xã ạ"}, {"response": "utter_x"}]}
    assert address_responses(result, {"address_form": "ong"})["responses"][0]["text"] == "Ông chọn xã ạ"
    result = {"events": [{"event": "slot", "name": "address_form", "value": "co"}], "responses": [{"text": "anh/chị ạ"}]}
    assert address_responses(result, {"address_form": "ong"})["responses"][0]["text"] == "cô ạ"
    result = {"events": [], "responses": [{"text": "anh/chị ạ"}]}
    assert address_responses(result, {})["responses"][0]["text"] == "anh/chị ạ"
