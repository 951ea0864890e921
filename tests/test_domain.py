"""The catalogue is covered, and every answer follows the content rules."""
import collections
import re

import pytest

from bot.nlu.normalizer import fold_diacritics

MENU_PAYLOAD = "/ask_help_menu"
ZALO_TEXT_LIMIT = 2000
SENSITIVE = r"(otp|mật khẩu|mã pin|số thẻ|số tài khoản|số căn cước|mã kích hoạt)"


def all_texts(domain):
    for name, variations in domain.responses.items():
        for variation in variations:
            yield name, variation


def test_every_topic_is_an_intent(domain, topics):
    missing = [t for t in topics if t != "out_of_scope" and t not in domain.intents]
    assert not missing
    assert "out_of_scope" in domain.intents


def test_every_topic_has_at_least_30_training_examples(topics, training_examples):
    counts = collections.Counter(intent for _, intent in training_examples)
    thin = {t: counts[t] for t in topics if counts[t] < 30}
    assert not thin


def test_training_data_mixes_the_ways_residents_type(topics, training_examples):
    for topic in topics:
        texts = [text for text, intent in training_examples if intent == topic]
        plain = sum(fold_diacritics(t) == t for t in texts)
        assert plain >= len(texts) * 0.2, f"{topic}: too few examples without diacritics"
        assert plain <= len(texts) * 0.8, f"{topic}: too few examples with diacritics"


def _rules(name):
    import yaml

    from tests.conftest import ROOT

    return yaml.safe_load((ROOT / "nlu_data" / "rules" / name).read_text(encoding="utf-8"))["rules"]


def _answer_rules():
    return [r for r in _rules("answers.yml") + _rules("community.yml") if r["steps"][0].get("intent") != "nlu_fallback"]


def test_an_answer_outside_a_journey_calls_no_custom_action_after_it():
    # issue 11: action_offer_resume only did something while journey_form was
    # active; outside a journey the answer ends and Rasa listens
    for rule in _answer_rules():
        assert "condition" not in rule, rule["rule"]
        assert rule["steps"][-1] != {"action": "action_offer_resume"}, rule["rule"]


def test_every_answer_offers_to_resume_an_interrupted_journey():
    twins = {r["rule"]: r for r in _rules("answers_in_journey.yml")}
    answers = _answer_rules()
    assert len(answers) >= 30
    assert len(twins) == len(answers)
    for rule in answers:
        twin = twins.get(f"{rule['rule']}, during a journey")
        assert twin, f"{rule['rule']} has no twin for an open journey"
        assert twin["condition"] == [{"active_loop": "journey_form"}], twin["rule"]
        assert twin["steps"] == rule["steps"] + [
            {"action": "action_offer_resume"}, {"active_loop": None}, {"slot_was_set": [{"requested_slot": None}]},
        ], twin["rule"]


def test_every_topic_is_answered_by_a_rule(topics, rules, domain):
    for topic in topics:
        actions = rules.get(topic)
        assert actions, f"no rule answers {topic}"
        for action in actions:
            assert action in domain.responses, f"{topic}: {action} has no response"


def test_topic_answers_end_with_buttons_back_to_the_menu(topics, rules, domain):
    for topic in topics:
        if topic in {"greet", "goodbye", "affirm", "deny", "request_human"}:
            continue  # request_human goes on to the hand-off (tests/actions/test_handoff.py)
        last = domain.responses[rules[topic][-1]][-1]
        payloads = [b["payload"] for b in last.get("buttons", [])]
        assert MENU_PAYLOAD in payloads or rules[topic][-1] == "utter_menu", topic


def test_greet_and_menu_show_the_topic_menu_as_buttons(rules, domain):
    assert rules["greet"][-1] == "utter_menu"
    assert len(domain.responses["utter_menu"][0]["buttons"]) >= 4


def test_every_button_leads_somewhere(domain):
    for name, variation in all_texts(domain):
        for button in variation.get("buttons", []):
            intent = re.match(r"^/(\w+)", button["payload"]).group(1)
            assert intent in domain.intents, f"{name}: button to unknown intent {intent}"
            assert len(button["title"]) <= 30, f"{name}: button title too long"


def test_messages_are_short_enough_for_every_channel(domain):
    for name, variation in all_texts(domain):
        assert 0 < len(variation["text"]) <= ZALO_TEXT_LIMIT, name
        assert len(variation["text"]) <= 400, f"{name}: one idea per message, please"


def test_no_answer_asks_the_resident_for_secrets(domain):
    asking = re.compile(r"(gửi|nhắn|đọc|cho|cung cấp)\s+(cho\s+)?(em|trợ lý)\b[^.?!]{0,40}" + SENSITIVE, re.I)
    for name, variation in all_texts(domain):
        assert not asking.search(variation["text"]), name


def test_answers_follow_the_two_level_government(domain):
    for name, variation in all_texts(domain):
        text = variation["text"].lower()
        assert not re.search(r"\b(huyện|quận)\b", text), f"{name} sends residents to a district"


def test_the_scam_answer_covers_the_catalogue(rules, domain):
    text = " ".join(domain.responses[a][0]["text"] for a in rules["report_scam"]).lower()
    for needle in ["otp", "mật khẩu", "công an", "khóa", "phí"]:
        assert needle in text, needle


@pytest.mark.parametrize(
    "topic, needles",
    [
        ("ask_open_bank_account", ["căn cước", "ekyc", "đứng tên"]),
        ("ask_benefit_via_bank", ["ubnd xã", "dữ liệu quốc gia về dân cư"]),
        ("ask_bank_biometric", ["1/1/2025", "10.000.000 ₫", "20.000.000 ₫", "nfc"]),
        ("ask_portal_login", ["dichvucong.gov.vn", "vneid", "1/7/2024"]),
        ("ask_vneid", ["công an xã", "mức 2"]),
        ("ask_customer_code", ["hóa đơn"]),
        ("ask_autopay", ["trích nợ tự động"]),
        ("ask_track_dossier", ["mã hồ sơ"]),
    ],
)
def test_key_facts_are_in_the_answers(topic, needles, rules, domain):
    text = " ".join(v["text"] for a in rules[topic] for v in domain.responses[a]).lower()
    for needle in needles:
        assert needle in text, f"{topic}: missing {needle!r}"


HUMAN_PAYLOAD = "/request_human"
CONVERSATIONAL = {"greet", "goodbye", "thank", "affirm", "deny", "request_human", "out_of_scope", "ask_help_menu"}
MESSAGE_LIMIT = 220
MESSAGES_PER_ANSWER = 3


def test_every_topic_answer_offers_a_person(topics, rules, domain):
    missing = []
    for topic in topics:
        if topic in CONVERSATIONAL:
            continue
        last = domain.responses[rules[topic][-1]]
        if any(HUMAN_PAYLOAD not in [b["payload"] for b in v.get("buttons", [])] for v in last):
            missing.append(topic)
    assert not missing


def test_no_message_is_over_220_characters(domain):
    long = [(name, len(v["text"])) for name, v in all_texts(domain) if len(v["text"]) > MESSAGE_LIMIT]
    assert not long


def test_no_answer_sends_more_than_3_messages_at_once(rules):
    crowded = {intent: len(actions) for intent, actions in rules.items() if len(actions) > MESSAGES_PER_ANSWER}
    assert not crowded


def test_every_journey_step_and_action_text_is_short():
    import yaml

    from tests.conftest import ROOT

    def strings(node, where):
        if isinstance(node, dict):
            for key, value in node.items():
                yield from strings(value, f"{where}/{key}")
        elif isinstance(node, list):
            for index, value in enumerate(node):
                yield from strings(value, f"{where}[{index}]")
        elif isinstance(node, str):
            yield where, node

    files = ["bot/journeys/journeys.yml", "bot/community_team.yml", "bot/prompts.yml"]
    long = [
        (where, len(text))
        for name in files
        for where, text in strings(yaml.safe_load((ROOT / name).read_text(encoding="utf-8")), name)
        if len(text) > MESSAGE_LIMIT
    ]
    assert not long


@pytest.mark.parametrize(
    "topic, needles",
    [
        ("report_scam", ["cúp máy", "vneid", "cài ứng dụng", "phí trước", "khóa thẻ"]),
        ("ask_vneid_social_account", ["vneid mức 2", "tài khoản hưởng an sinh xã hội", "đứng tên", "ubnd xã"]),
        ("ask_social_pension", ["75 tuổi", "lương hưu", "ubnd xã", "tài khoản ngân hàng"]),
        ("ask_otp_problem", ["sóng", "tin nhắn", "số điện thoại", "smart otp", "không đọc"]),
        ("ask_app_locked", ["quên mật khẩu", "căn cước", "khuôn mặt", "chi nhánh", "không bao giờ hỏi mật khẩu"]),
        ("ask_lost_card", ["khóa thẻ", "tổng đài", "làm lại thẻ", "người lạ"]),
    ],
)
def test_key_facts_of_the_issue_14_answers(topic, needles, rules, domain):
    text = " ".join(v["text"] for a in rules[topic] for v in domain.responses[a]).lower()
    for needle in needles:
        assert needle in text, f"{topic}: missing {needle!r}"
