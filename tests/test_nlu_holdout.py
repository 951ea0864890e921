"""The held-out set is honest (never trained on, mixed like real typing) and
the trained model still meets the accuracy target on it.

bench/nlu.py reports the full figures; this test guards against regressions.
"""
import asyncio
import collections

import pytest

from bot.nlu.normalizer import normalize
from bot.text_variants import variants

TARGET_OVERALL = 0.95
TARGET_PER_VARIANT = 0.93


def test_holdout_size_and_make_up(holdout_examples, topics):
    assert len(holdout_examples) >= 200
    kinds = collections.Counter(v for text, _ in holdout_examples for v in variants(text))
    assert kinds["no_diacritics"] >= 0.30 * len(holdout_examples)
    assert kinds["teencode"] >= 0.20 * len(holdout_examples)
    per_topic = collections.Counter(intent for _, intent in holdout_examples)
    assert all(per_topic[topic] >= 4 for topic in topics), per_topic


def test_holdout_is_never_trained_on(holdout_examples, training_examples):
    trained = {normalize(text) for text, _ in training_examples}
    leaked = [text for text, _ in holdout_examples if normalize(text) in trained]
    assert not leaked


@pytest.fixture(scope="module")
def agent():
    from rasa.core.agent import Agent

    from bot.training import ensure_model

    return Agent.load(str(ensure_model()))


def test_model_meets_the_accuracy_targets(agent, holdout_examples):
    async def predict(text):
        return (await agent.parse_message(text))["intent"]["name"]

    async def predict_all():
        return [await predict(text) for text, _ in holdout_examples]

    predictions = asyncio.run(predict_all())
    by_variant = collections.defaultdict(list)
    for (text, expected), predicted in zip(holdout_examples, predictions):
        right = predicted == expected or (expected == "out_of_scope" and predicted == "nlu_fallback")
        for variant in ["overall", *variants(text)]:
            by_variant[variant].append(right)
    accuracy = {k: sum(v) / len(v) for k, v in by_variant.items()}
    assert accuracy["overall"] >= TARGET_OVERALL, accuracy
    for variant, value in accuracy.items():
        assert value >= TARGET_PER_VARIANT, accuracy
