"""bot/policies.py: the cached rule look-up gives RulePolicy's answers."""
import pytest
from rasa.core.policies.rule_policy import RulePolicy
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource

from bot import policies
from bot.policies import CachedRulePolicy


def state(intent=None, action=None, loop=None):
    found = {}
    if intent:
        found["user"] = {"intent": intent}
    if action:
        found["prev_action"] = {"action_name": action}
    if loop:
        found["active_loop"] = {"name": loop}
    return found


RULES = [
    [state(action="action_listen", intent="ask_pay_water")],
    [state(action="action_listen", intent="ask_pay_water"), state(action="utter_ask_pay_water", intent="ask_pay_water")],
    [state(action="action_listen", intent="greet")],
    [state(loop="journey_form", action="action_listen", intent="ask_pay_water")],
]

CONVERSATIONS = [
    [state(action="action_listen", intent="ask_pay_water")],
    [state(action="action_listen", intent="greet"), state(action="action_listen", intent="ask_pay_water")],
    [state(action="action_listen", intent="ask_pay_water"), state(action="utter_ask_pay_water", intent="ask_pay_water")],
    [state(loop="journey_form", action="action_listen", intent="ask_pay_water")],
    [state(action="action_listen", intent="thank")],
]


@pytest.fixture()
def policy(tmp_path):
    made = CachedRulePolicy.create(
        CachedRulePolicy.get_default_config(), LocalModelStorage(tmp_path),
        Resource("rules"), ExecutionContext(GraphSchema({}), "test"),
    )
    made.lookup = {"rules": {made._create_feature_key(rule): f"action_{n}" for n, rule in enumerate(RULES)}}
    return made


def test_cached_look_up_equals_rule_policys(policy):
    lookup = policy.lookup["rules"]
    expected = [RulePolicy._get_possible_keys(policy, lookup, states) for states in CONVERSATIONS]
    assert any(expected) and not all(expected)  # the cases tell matches from misses
    first = [policy._get_possible_keys(lookup, states) for states in CONVERSATIONS]
    again = [policy._get_possible_keys(lookup, states) for states in CONVERSATIONS]
    assert first == expected and again == expected
    assert len(policy._possible_keys) == len(CONVERSATIONS)


def test_callers_cannot_change_what_is_cached(policy):
    lookup = policy.lookup["rules"]
    policy._get_possible_keys(lookup, CONVERSATIONS[0]).clear()
    assert policy._get_possible_keys(lookup, CONVERSATIONS[0]) == RulePolicy._get_possible_keys(policy, lookup, CONVERSATIONS[0])


def test_the_cache_is_bounded(policy, monkeypatch):
    monkeypatch.setattr(policies, "CACHE_SIZE", 2)
    lookup = policy.lookup["rules"]
    for states in CONVERSATIONS:
        policy._get_possible_keys(lookup, states)
    assert len(policy._possible_keys) == 2


def test_states_older_than_the_longest_rule_share_a_cache_entry(policy):
    lookup = policy.lookup["rules"]
    latest = CONVERSATIONS[2]
    histories = [[state(action="action_listen", intent=f"ask_{n}")] * n + latest for n in range(1, 6)]
    found = [policy._get_possible_keys(lookup, states) for states in histories]
    assert found == [RulePolicy._get_possible_keys(policy, lookup, states) for states in histories]
    assert len(policy._possible_keys) == 1


def test_messages_whose_text_no_rule_mentions_share_a_cache_entry(policy):
    # right after a message RulePolicy looks the rules up with the text in place of
    # the intent; no rule has a text, so the text never changes the answer
    lookup = policy.lookup["rules"]
    texts = ["tra tien nuoc the nao", "đóng tiền nước ở đâu", "🙏", "x" * 300]
    histories = [
        [state(action="action_listen", intent="greet"), {"prev_action": {"action_name": "action_listen"}, "user": {"text": t}}]
        for t in texts
    ]
    found = [policy._get_possible_keys(lookup, states) for states in histories]
    assert found == [RulePolicy._get_possible_keys(policy, lookup, states) for states in histories]
    assert len(policy._possible_keys) == 1


def test_features_a_rule_mentions_still_tell_states_apart(policy):
    lookup = policy.lookup["rules"]
    plain = [state(action="action_listen", intent="ask_pay_water")]
    in_loop = [state(loop="journey_form", action="action_listen", intent="ask_pay_water")]
    with_slot = [{**state(action="action_listen", intent="ask_pay_water"), "slots": {"bill_type": (1.0,)}}]
    found = [policy._get_possible_keys(lookup, states) for states in (plain, in_loop, with_slot)]
    assert found == [RulePolicy._get_possible_keys(policy, lookup, s) for s in (plain, in_loop, with_slot)]
    assert found[0] != found[1]
    # bill_type is in no rule: the state with it is the plain one to the cache
    assert found[2] == found[0] and len(policy._possible_keys) == 2


def test_a_conversation_start_is_not_a_later_turn_to_the_cache(policy):
    lookup = {policy._create_feature_key([{"user": {"intent": "greet"}}]): "action_start",
              **policy.lookup["rules"]}
    start = [{"user": {"intent": "greet"}}]
    later = [state(action="action_listen", intent="greet")]
    found = [policy._get_possible_keys(lookup, s) for s in (start, later)]
    assert found == [RulePolicy._get_possible_keys(policy, lookup, s) for s in (start, later)]
    assert found[0] != found[1]


def test_a_miss_compares_only_the_rules_of_the_previous_action(policy, monkeypatch):
    lookup = policy.lookup["rules"]
    compared = []
    real = RulePolicy._is_rule_applicable

    def counting(self, rule_key, turn_index, conversation_state):
        compared.append(rule_key)
        return real(self, rule_key, turn_index, conversation_state)

    monkeypatch.setattr(RulePolicy, "_is_rule_applicable", counting)
    states = [state(action="action_listen", intent="ask_pay_water"), state(action="utter_ask_pay_water", intent="ask_pay_water")]
    found = policy._get_possible_keys(lookup, states)
    assert found == {policy._create_feature_key(RULES[1])}
    # the one rule whose latest state follows utter_ask_pay_water, at both of its states
    assert set(compared) == found and len(compared) == 2
