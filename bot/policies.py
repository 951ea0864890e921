"""Dialogue policies of the assistant (config.yml `policies:`), loaded by the Rasa server only.

``CachedRulePolicy`` is Rasa's RulePolicy with its rule look-up remembered.
For every predicted action RulePolicy filters all of its rule keys against
the conversation's recent states (`_get_possible_keys`, 15 % of the Rasa
server's time in bench/speed.py's profile). The answer depends only on the
(fixed, trained) rules and on those states, and residents keep passing through
the same few hundred states, so the answer is kept in a bounded LRU cache
keyed by the latest states (as many as the longest rule has; RulePolicy
never compares older ones), each reduced to the features that some rule
mentions (RulePolicy compares only those, `_does_rule_match_state`). The
reduction matters: right after a message RulePolicy first looks the rules up
with the message's text in place of its intent, and no rule of ours has a
text, so without it every message was a cache miss (11 % of the Rasa
server's time in bench/speed.py's profile). On a miss, only the rules whose
latest state has the conversation's previous action are compared (an index
built once; RulePolicy would reject the others at their first state).
Predictions are exactly RulePolicy's.
"""
from __future__ import annotations

import json
from collections import OrderedDict
from typing import Any, Dict, List, Set, Text, Tuple

from rasa.core.policies.rule_policy import RulePolicy
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.shared.core.domain import Domain
from rasa.shared.core.constants import PREVIOUS_ACTION, SHOULD_NOT_BE_SET
from rasa.shared.core.generator import State, TrackerWithCachedStates
from rasa.shared.nlu.constants import ACTION_NAME

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
        self._rule_features: Dict[int, Set[Tuple[str, str]]] = {}
        self._by_last_action: Dict[int, Tuple[Dict[str, Dict[Text, Text]], Dict[Text, Text]]] = {}
        self._training = False

    def train(self, training_trackers: List[TrackerWithCachedStates], domain: Domain, **kwargs: Any) -> Resource:
        # the look-up tables change while RulePolicy trains and checks its rules
        self._training = True
        try:
            return super().train(training_trackers, domain, **kwargs)
        finally:
            self._possible_keys.clear()
            self._longest_rule.clear()
            self._rule_features.clear()
            self._by_last_action.clear()
            self._training = False

    def _features_of(self, lookup: Dict[Text, Text]) -> Set[Tuple[str, str]]:
        """(state type, feature) pairs that at least one rule of ``lookup`` compares."""
        features = self._rule_features.get(id(lookup))
        if features is None:
            features = {
                (state_type, feature)
                for rule in lookup
                for state in self._rule_key_to_state(rule)
                for state_type, sub_state in state.items()
                for feature in sub_state
            }
            self._rule_features[id(lookup)] = features
        return features

    def _cache_key(self, lookup: Dict[Text, Text], states: List[State]) -> Tuple[int, str]:
        features = self._features_of(lookup)
        reduced = []
        for state in states:
            kept = {}
            for state_type, sub_state in state.items():
                if state_type == PREVIOUS_ACTION:
                    # whether there is a previous action at all decides a conversation
                    # start (RulePolicy._is_rule_applicable): keep that sub-state whole
                    kept[state_type] = sub_state
                    continue
                sub_state = {f: v for f, v in sub_state.items() if (state_type, f) in features}
                if sub_state:  # RulePolicy reads a missing sub-state as an empty one
                    kept[state_type] = sub_state
            reduced.append(kept)
        return id(lookup), json.dumps(reduced, sort_keys=True, default=list)

    def _candidates(self, lookup: Dict[Text, Text], states: List[State]) -> Dict[Text, Text]:
        """The rules of ``lookup`` that can match the latest of ``states``.

        A rule whose latest state names a previous action matches only a
        conversation whose previous action is that one
        (RulePolicy._is_rule_applicable / _does_rule_match_state at turn 0);
        the other rules (conversation starts, ...) are always candidates.
        """
        if not states:
            return lookup
        index = self._by_last_action.get(id(lookup))
        if index is None:
            by_action: Dict[str, Dict[Text, Text]] = {}
            always: Dict[Text, Text] = {}
            for rule, action in lookup.items():
                named = (self._rule_key_to_state(rule) or [{}])[-1].get(PREVIOUS_ACTION, {}).get(ACTION_NAME)
                if isinstance(named, str) and named and named != SHOULD_NOT_BE_SET:
                    by_action.setdefault(named, {})[rule] = action
                else:
                    always[rule] = action
            index = self._by_last_action[id(lookup)] = (by_action, always)
        by_action, always = index
        current = states[-1].get(PREVIOUS_ACTION, {}).get(ACTION_NAME)
        return {**by_action.get(current, {}), **always}

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
        key = self._cache_key(lookup, states)
        found = self._possible_keys.get(key)
        if found is None:
            found = super()._get_possible_keys(self._candidates(lookup, states), states)
            self._possible_keys[key] = found
            if len(self._possible_keys) > CACHE_SIZE:
                self._possible_keys.popitem(last=False)
        else:
            self._possible_keys.move_to_end(key)
        return set(found)
