"""The intent classifier behind the two views, trained through the NLU
pipeline proposed in bot/nlu/pipeline_two_views.yml (normaliser with both views and folded copies, the
four count featurizers, the linear classifier)."""
import unicodedata
from pathlib import Path

import numpy as np
import pytest
import yaml

from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.linear_classifier import LinearIntentClassifier
from bot.nlu.normalizer_component import VietnameseNormalizer

ROOT = Path(__file__).resolve().parents[2]
# The proposed pipeline (config.yml keeps the folded view and DIET for now).
CONFIG = ROOT / "bot" / "nlu" / "pipeline_two_views.yml"

# "bán" (sell) and "bàn" (table) are one word once folded ("ban").
TRAINING = {
    "sell": ["tôi muốn bán nhà", "bán xe máy cũ", "cần bán đất gấp", "bán gấp căn hộ", "rao bán điện thoại"],
    "furniture": ["mua bàn học", "bàn ghế gỗ", "bàn làm việc", "tìm bàn ăn", "một cái bàn tròn"],
    "greet": ["xin chào", "chào bạn", "chào buổi sáng", "alo có ai không", "xin chào ạ"],
}


def pipeline_steps():
    """The normaliser, featurizer and classifier steps of config.yml, in order."""
    steps = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))["pipeline"]
    kept = {"bot.nlu.normalizer_component.VietnameseNormalizer", "CountVectorsFeaturizer",
            "bot.nlu.linear_classifier.LinearIntentClassifier"}
    return [step for step in steps if step["name"] in kept]


def train(tmp_path, training=TRAINING, storage_path=None):
    storage = LocalModelStorage(storage_path or tmp_path)
    context = ExecutionContext(GraphSchema({}), "test")
    classes = {
        "bot.nlu.normalizer_component.VietnameseNormalizer": VietnameseNormalizer,
        "CountVectorsFeaturizer": CountVectorsFeaturizer,
        "bot.nlu.linear_classifier.LinearIntentClassifier": LinearIntentClassifier,
    }
    components = []
    for index, step in enumerate(pipeline_steps()):
        cls = classes[step["name"]]
        settings = {key: value for key, value in step.items() if key != "name"}
        config = {**cls.get_default_config(), **settings, "alias": f"step{index}"}
        components.append((cls, config, Resource(f"step{index}")))
    data = TrainingData([Message(data={TEXT: t, INTENT: i}) for i, texts in training.items() for t in texts])
    built = []
    for cls, config, resource in components:
        component = cls.create(config, storage, resource, context)
        if cls is VietnameseNormalizer:
            component.train(data)
            data = component.process_training_data(data)
        elif cls is CountVectorsFeaturizer:
            component.train(data)
            component.process_training_data(data)
        else:
            component.train(data)
        built.append(component)
    return built, components, storage, context


def classify(built, text):
    message = Message(data={TEXT: text})
    for component in built:
        component.process([message])
    return message.get(INTENT), message.get(INTENT_RANKING_KEY)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return train(tmp_path_factory.mktemp("linear"))


def test_the_pipeline_gives_the_classifier_counts_on_both_views():
    steps = pipeline_steps()
    assert steps[0].get("views") == "both" and steps[0].get("folded_copies") is True
    featurizers = [s for s in steps if s["name"] == "CountVectorsFeaturizer"]
    views = {(s.get("analyzer", "word"), s.get("use_lemma", True)) for s in featurizers}
    assert views == {("word", False), ("word", True), ("char_wb", False), ("char_wb", True)}
    assert steps[-1]["name"] == "bot.nlu.linear_classifier.LinearIntentClassifier"


def test_a_pair_told_apart_only_by_diacritics_is_told_apart_when_written(trained):
    built, *_ = trained
    assert classify(built, "bán")[0]["name"] == "sell"
    assert classify(built, "bàn")[0]["name"] == "furniture"
    # Decomposed Unicode and capitals are the same words.
    assert classify(built, unicodedata.normalize("NFD", "Bán"))[0]["name"] == "sell"
    assert classify(built, "BÀN")[0]["name"] == "furniture"


def test_the_pair_still_matches_when_typed_without_diacritics(trained):
    built, *_ = trained
    assert classify(built, "ban nha")[0]["name"] == "sell"
    assert classify(built, "ban xe may")[0]["name"] == "sell"
    assert classify(built, "ban ghe go")[0]["name"] == "furniture"
    assert classify(built, "mua ban hoc")[0]["name"] == "furniture"


def test_known_messages_are_confident(trained):
    built, *_ = trained
    intent, ranking = classify(built, "xin chào bạn")
    assert intent["name"] == "greet" and intent["confidence"] > 0.6
    assert ranking[0] == intent
    assert ranking == sorted(ranking, key=lambda r: -r["confidence"])


def scored(scores, **config):
    component = LinearIntentClassifier({**LinearIntentClassifier.get_default_config(), **config}, None, None,
                                       classes=["a", "b", "c"])
    return {r["name"]: r["confidence"] for r in component.ranking(np.array(scores))}


def test_a_message_no_intent_claims_gets_low_confidences():
    # Gibberish: every intent scores below "no intent" (null_score -0.5).
    confidences = scored([-0.9, -1.0, -1.1])
    assert max(confidences.values()) < 0.1
    # One intent clearly above it: confident, and "no intent" keeps a share.
    confidences = scored([0.6, -0.8, -1.0])
    assert 0.99 < confidences["a"] < 1.0 and sum(confidences.values()) < 1.0
    # Two intents alike: neither confident (the FallbackClassifier's ambiguity check).
    confidences = scored([0.2, 0.2, -1.0])
    assert abs(confidences["a"] - confidences["b"]) < 1e-9 and confidences["a"] < 0.5


def test_confidence_scale_sharpens():
    assert scored([0.3, 0.0, -1.0], confidence_scale=16.0)["a"] > scored([0.3, 0.0, -1.0], confidence_scale=4.0)["a"]


def test_a_loaded_model_classifies_as_the_trained_one(tmp_path):
    built, components, storage, context = train(tmp_path)
    cls, config, resource = components[-1]
    loaded = cls.load(config, storage, resource, context)
    for text in ["bán", "bàn", "ban ghe", "chao ban"]:
        message = Message(data={TEXT: text})
        for component in built[:-1]:
            component.process([message])
        loaded.process([message])
        assert message.get(INTENT) == classify(built, text)[0]


def test_two_intents_are_enough(tmp_path):
    two = {key: TRAINING[key] for key in ("sell", "furniture")}
    built, *_ = train(tmp_path, two)
    assert classify(built, "bán")[0]["name"] == "sell"
    assert classify(built, "bàn")[0]["name"] == "furniture"
    assert len(classify(built, "bàn")[1]) == 2


def test_one_intent_trains_nothing_and_classifies_nothing(tmp_path):
    built, *_ = train(tmp_path, {"sell": TRAINING["sell"]})
    intent, ranking = classify(built, "bán")
    assert intent is None and ranking is None
