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
