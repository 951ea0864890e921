"""The answer library's catalogue is generated from the bot's own sources:
every answer rule's responses and every journey step are in it, nothing else
is needed to keep it up to date, and every entry is usable (id, title, text)."""
import re
import shutil
from pathlib import Path

import pytest
import yaml

from bot.library.catalogue import ACTION_TEXTS, JOURNEY, TOPIC, build_catalogue, catalogue, reading_order
from bot.journeys.engine import Catalogue as Journeys

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "nlu_data" / "rules" / "answers.yml"
JOURNEYS = ROOT / "bot" / "journeys" / "journeys.yml"


def squash(text):
    return " ".join(str(text).split())


def responses():
    found = {}
    for path in sorted((ROOT / "domain").glob("*.yml")):
        found.update(yaml.safe_load(path.read_text(encoding="utf-8")).get("responses") or {})
    return found


def answer_rules():
    """[(intent, [responses])] of every rule of answers.yml except the not-understood ones."""
    found = []
    for rule in yaml.safe_load(RULES.read_text(encoding="utf-8"))["rules"]:
        intent = rule["steps"][0].get("intent")
        if intent in (None, "nlu_fallback"):
            continue
        names = [
            s["action"] for s in rule["steps"][1:]
            if s.get("action", "").startswith("utter_") or s.get("action") in ACTION_TEXTS
        ]
        found.append((intent, [n for n in names if n != "utter_menu" and not n.startswith("utter_menu_")]))
    return found


def general_text(variations):
    plain = [v for v in variations if not v.get("condition")]
    return squash((plain or variations)[0]["text"])


@pytest.fixture(scope="module")
def library():
    return catalogue()


def test_the_answer_rules_are_read():
    assert len(answer_rules()) >= 25  # a guard for the test itself: it reads the real rules


@pytest.mark.parametrize("intent,names", answer_rules(), ids=[i for i, _ in answer_rules()])
def test_every_answer_rule_is_an_entry_with_all_its_messages_in_order(library, intent, names):
    entry = library.get(intent)
    assert entry is not None, f"{intent} is answered by a rule but missing from the library"
    assert entry.kind == TOPIC and entry.intent == intent
    expected = [text for name in names for text in expected_texts(name)]
    assert entry.messages == expected


def expected_texts(name):
    """A response's general variation, or the texts a speaking custom action contributes (read from its file)."""
    if name not in ACTION_TEXTS:
        return [general_text(responses()[name])]
    path, keys = ACTION_TEXTS[name]
    texts = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [squash(texts[key]) for key in keys]


def test_the_community_team_answer_has_its_actions_words(library):
    entry = library.get("ask_community_team")
    assert not entry.partial
    assert "Tổ công nghệ số cộng đồng" in entry.messages[0] and "UBND" in entry.text


def test_an_answer_with_a_custom_action_speaking_in_it_is_marked_partial(library):
    for rule in yaml.safe_load(RULES.read_text(encoding="utf-8"))["rules"]:
        entry = library.get(rule["steps"][0].get("intent") or "")
        if entry is None:
            continue
        actions = [s["action"] for s in rule["steps"][1:] if "action" in s]
        last_said = max(i for i, a in enumerate(actions) if a.startswith("utter_"))
        speaking_unknown = [a for a in actions[:last_said] if not a.startswith("utter_") and a not in ACTION_TEXTS]
        assert entry.partial == bool(speaking_unknown), entry.id
    assert not library.get("ask_pay_electricity").partial  # action_offer_resume after the answer only navigates


def test_conditional_variations_are_searchable_not_lost(library):
    variations = responses()["utter_ask_customer_code"]
    conditional = [squash(v["text"]) for v in variations if v.get("condition")]
    assert conditional, "the domain has a conditional response (bill type)"
    keywords = [squash(k) for k in library.get("ask_customer_code").keywords]
    assert all(text in keywords for text in conditional)


def test_the_not_understood_answer_is_not_in_the_library(library):
    texts = {m for e in library.entries for m in e.messages}
    assert general_text(responses()["utter_default"]) not in texts
    assert library.get("nlu_fallback") is None


def raw_journeys():
    return yaml.safe_load(JOURNEYS.read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", list(raw_journeys()))
def test_every_journey_step_is_in_its_entry_once_and_in_reading_order(library, name):
    spec = raw_journeys()[name]
    entry = library.get(f"journey-{name}")
    assert entry is not None and entry.kind == JOURNEY and entry.journey == name
    assert entry.title == spec["title"]
    assert len(entry.messages) == len(spec["steps"])
    where = {}
    for step_id, step in spec["steps"].items():
        holding = [i for i, m in enumerate(entry.messages) if squash(step["text"]) in m]
        assert len(holding) == 1, f"{name}.{step_id} is not in the library exactly once"
        where[step_id] = holding[0]
        for choice in step.get("choices") or []:
            assert f"«{choice['title']}»" in entry.messages[holding[0]]
    assert where[spec["first"]] == 0
    for step_id, step in spec["steps"].items():
        targets = [c["next"] for c in step.get("choices") or []] or [step.get("next")]
        for target in filter(None, targets):
            assert where[target] > where[step_id], f"{name}: {target} is printed before {step_id} that leads to it"
            assert f"bước {where[target] + 1}" in entry.messages[where[step_id]] or where[target] == where[step_id] + 1


def test_reading_order_keeps_branches_together():
    journey = Journeys.from_file(JOURNEYS).get("pay_bill")
    order = reading_order(journey)
    assert order[:3] == ["which_bill", "code_electricity", "way_electricity"]
    assert order.index("code_water") < order.index("enter_code")  # shared steps after every branch


def test_ids_are_unique_and_url_safe_and_no_entry_is_empty(library):
    ids = [e.id for e in library.entries]
    assert len(ids) == len(set(ids))
    for entry in library.entries:
        assert re.fullmatch(r"[a-z0-9_-]+", entry.id), entry.id
        assert entry.title.strip() and entry.messages and all(m.strip() for m in entry.messages), entry.id
        assert entry.text == "\n\n".join(entry.messages)


def test_topics_come_from_the_menu_and_hold_every_entry(library):
    keys = [t.key for t in library.topics]
    assert len(keys) == len(set(keys))
    assert keys[:3] == ["bank", "bills", "services"]  # the sections of the main menu, in its order
    assert library.topic_label("bills") == "Tiền điện, nước, học phí"  # the menu button, emoji stripped
    assert {e.topic for e in library.entries} == set(keys)
    assert all(library.in_topic(key) for key in keys)
    assert library.get("report_scam").topic == "safety"


def test_journeys_belong_to_the_topic_of_the_answers_that_offer_them(library):
    assert library.get("journey-pay_bill").topic == library.get("ask_pay_electricity").topic == "bills"
    assert library.get("journey-open_account").topic == library.get("ask_open_bank_account").topic == "bank"
    assert library.get("journey-vneid_portal").topic == "services"
    assert "journey-pay_bill" in library.get("ask_pay_electricity").related


def test_titles_are_the_menu_buttons_without_emoji(library):
    core = yaml.safe_load((ROOT / "domain" / "core.yml").read_text(encoding="utf-8"))["responses"]
    checked = 0
    for name in ("utter_menu_bank", "utter_menu_bills", "utter_menu_services"):
        for button in core[name][0]["buttons"]:
            intent = button["payload"].lstrip("/")
            if library.get(intent):
                assert library.get(intent).title == button["title"]
                checked += 1
    assert checked >= 15
    assert library.get("report_scam").title == "Cảnh báo lừa đảo"  # "⚠️ Cảnh báo lừa đảo" in the menu
    for entry in library.entries:
        assert not re.search(r"[\U0001F300-\U0001FAFF\u2600-\u27BF\uFE0F]", entry.title), entry.title


def test_a_new_answer_in_the_domain_appears_without_touching_the_library(tmp_path):
    """Generated, not copied: add a topic to copies of the domain and rules, rebuild."""
    domain = tmp_path / "domain"
    shutil.copytree(ROOT / "domain", domain)
    core = yaml.safe_load((domain / "core.yml").read_text(encoding="utf-8"))
    core["responses"]["utter_menu_bills"][0]["buttons"].insert(0, {"title": "🔥 Trả tiền gas", "payload": "/ask_pay_gas"})
    (domain / "core.yml").write_text(yaml.safe_dump(core, allow_unicode=True, sort_keys=False), encoding="utf-8")
    (domain / "gas.yml").write_text(yaml.safe_dump({
        "version": "3.1", "intents": ["ask_pay_gas"],
        "responses": {"utter_ask_pay_gas": [{"text": "Dạ, tiền gas trả tại đại lý ạ."}],
                      "utter_ask_pay_gas_2": [{"text": "Giữ hóa đơn ạ."}]},
    }, allow_unicode=True), encoding="utf-8")
    rules = yaml.safe_load(RULES.read_text(encoding="utf-8"))
    rules["rules"].append({"rule": "answer ask_pay_gas", "steps": [
        {"intent": "ask_pay_gas"}, {"action": "utter_ask_pay_gas"}, {"action": "utter_ask_pay_gas_2"},
        {"action": "action_offer_resume"}]})
    (tmp_path / "answers.yml").write_text(yaml.safe_dump(rules, allow_unicode=True), encoding="utf-8")

    rebuilt = build_catalogue(domain_dir=domain, rules_path=tmp_path / "answers.yml")
    entry = rebuilt.get("ask_pay_gas")
    assert entry is not None
    assert (entry.topic, entry.title) == ("bills", "Trả tiền gas")
    assert entry.messages == ["Dạ, tiền gas trả tại đại lý ạ.", "Giữ hóa đơn ạ."]
    assert [e.id for e in rebuilt.in_topic("bills") if e.kind == TOPIC][0] == "ask_pay_gas"  # menu order
    assert len(rebuilt.entries) == len(catalogue().entries) + 1
