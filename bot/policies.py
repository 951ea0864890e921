"""Dialogue policies of the assistant (config.yml `policies:`), loaded by the Rasa server only.

``CachedRulePolicy`` is Rasa's RulePolicy with its rule look-up remembered.
For every predicted action RulePolicy filters all of its rule keys against
the conversation's recent states (`_get_possible_keys`, 15 % of the Rasa
server's time in bench/speed.py's profile). The answer depends only on the
(fixed, trained) rules and on those states, and residents keep passing through
the same few hundred states, so the answer is kept in a bounded LRU cache
keyed by the latest states (as many as the longest rule has; RulePolicy
never compares older ones). Predictions are exactly RulePolicy's.
"""
from __future__ import annotations

import json
from collections import OrderedDict
from typing import Any, Dict, List, Set, Text, Tuple

from rasa.core.policies.rule_policy import RulePolicy
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain
from rasa.shared.core.generator import State, TrackerWithCachedStates

CACHE_SIZE = 4096


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True
)
class CachedRulePolicy(RulePolicy):
    """RulePolicy whose rule look-up for a given sequence of states is computed once."""

    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003
        super().__init__(*args, **kwargs)
        self._possible_keys: "OrderedDict[Tuple[int, str], Set[Text]]" = OrderedDict()
        self._longest_rule: Dict[int, int] = {}
        self._training = False

    def train(self, training_trackers: List[TrackerWithCachedStates], domain: Domain, **kwargs: Any) -> Resource:
        # the look-up tables change while RulePolicy trains and checks its rules
        self._training = True
        try:
            return super().train(training_trackers, domain, **kwargs)
        finally:
            self._possible_keys.clear()
            self._longest_rule.clear()
            self._training = False

    def _get_possible_keys(self, lookup: Dict[Text, Text], states: List[State]) -> Set[Text]:
        if self._training:
            return super()._get_possible_keys(lookup, states)
        # A rule is compared with as many of the latest states as it has
        # (RulePolicy._is_rule_applicable); older states never matter.
        longest = self._longest_rule.get(id(lookup))
        if longest is None:
            longest = max((len(self._rule_key_to_state(rule)) for rule in lookup), default=0)
            self._longest_rule[id(lookup)] = longest
        states = states[-longest:] if longest else []
        key = (id(lookup), json.dumps(states, sort_keys=True, default=list))
        found = self._possible_keys.get(key)
        if found is None:
            found = super()._get_possible_keys(lookup, states)
            self._possible_keys[key] = found
            if len(self._possible_keys) > CACHE_SIZE:
                self._possible_keys.popitem(last=False)
        else:
            self._possible_keys.move_to_end(key)
        return set(found)
