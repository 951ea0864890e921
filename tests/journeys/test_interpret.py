import pytest

from bot.journeys.engine import BACK, INVALID, NEXT, RESUME, STOP, default_catalogue
from bot.journeys.interpret import interpret

CATALOGUE = default_catalogue()
QUESTION = CATALOGUE.get("open_account").step("has_chip_id")
INFO = CATALOGUE.get("open_account").step("get_chip_id")
WHICH_BILL = CATALOGUE.get("pay_bill").step(CATALOGUE.get("pay_bill").first)


@pytest.mark.parametrize(
    "intent, text, expected",
    [
        ("journey_next", "tiep", NEXT),
        ("journey_back", "quay lai", BACK),
        ("journey_stop", "tam dung", STOP),
        ("journey_resume", "tiep tuc", RESUME),
        ("affirm", "co", "choice:yes"),
        ("deny", "khong", "choice:no"),
        ("affirm", "dừng", STOP),  # the folded view cannot tell dừng from đúng
        ("nlu_fallback", "asdfgh", INVALID),
        ("nlu_fallback", "🤔🤔", INVALID),
        ("nlu_fallback", "", INVALID),
        ("ask_vneid", "123456789012", INVALID),
        ("out_of_scope", "xo so hom nay", INVALID),
        ("report_scam", "co nguoi doi ma otp", None),
        ("request_human", "gap can bo", None),
        ("ask_pay_water", "tra tien nuoc the nao", None),
    ],
)
def test_commands_at_a_question(intent, text, expected):
    assert interpret(intent, text, [], QUESTION) == expected


def test_button_choice_entity():
    entities = [{"entity": "journey_choice", "value": "yes"}]
    assert interpret("journey_choose", "/journey_choose", entities, QUESTION) == "choice:yes"


def test_typed_choice_wins_over_a_topic_intent():
    title = WHICH_BILL.choices[0].title
    assert interpret("ask_pay_electricity", title.lower(), [], WHICH_BILL) == "choice:" + WHICH_BILL.choices[0].value


def test_scam_wins_even_when_it_names_a_choice():
    assert interpret("report_scam", "có người đòi mã OTP, có phải lừa không", [], QUESTION) is None


def test_yes_at_an_information_step():
    assert interpret("affirm", "ok", [], INFO) == "choice:yes"
