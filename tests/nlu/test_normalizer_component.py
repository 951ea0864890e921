from pathlib import Path

import pytest

from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.normalizer_component import VietnameseNormalizer


def make(tmp_path: Path, **overrides):
    tmp_path.mkdir(parents=True, exist_ok=True)
    storage = LocalModelStorage(tmp_path)
    resource = Resource("normalizer")
    config = {**VietnameseNormalizer.get_default_config(), **overrides}
    context = ExecutionContext(GraphSchema({}), "test")
    return VietnameseNormalizer.create(config, storage, resource, context), storage, resource, config, context


def tokens_of(component, text):
    message = Message(data={TEXT: text})
    component.process([message])
    return message.get(TOKENS_NAMES[TEXT])


def test_tokens_are_folded_by_default_and_the_text_is_untouched(tmp_path):
    component, *_ = make(tmp_path)
    message = Message(data={TEXT: "Mở TK ở ngân hàng kooo đcccc"})
    component.process([message])
    assert message.get(TEXT) == "Mở TK ở ngân hàng kooo đcccc"
    tokens = message.get(TOKENS_NAMES[TEXT])
    assert [t.text for t in tokens] == [t.lemma for t in tokens] == [
        "mo", "tai", "khoan", "o", "ngan", "hang", "khong", "duoc",
    ]


def test_unknown_views_setting_is_refused(tmp_path):
    with pytest.raises(ValueError, match="views"):
        make(tmp_path, views="written")


def test_tokens_carry_both_views_and_the_text_is_untouched(tmp_path):
    component, *_ = make(tmp_path, views="both")
    message = Message(data={TEXT: "Mở TK ở ngân hàng kooo đcccc"})
    component.process([message])
    assert message.get(TEXT) == "Mở TK ở ngân hàng kooo đcccc"
    tokens = message.get(TOKENS_NAMES[TEXT])
    assert [t.lemma for t in tokens] == ["mo", "tai", "khoan", "o", "ngan", "hang", "khong", "duoc"]
    assert [t.text for t in tokens] == ["mở", "tài", "khoản", "ở", "ngân", "hàng", "không", "được"]


def test_training_data_is_tokenized_the_same_way(tmp_path):
    component, *_ = make(tmp_path, views="both")
    example = Message(data={TEXT: "làm sao để mở tài khoản", "intent": "ask_open_bank_account"})
    component.process_training_data(TrainingData([example]))
    tokens = example.get(TOKENS_NAMES[TEXT])
    assert [t.lemma for t in tokens] == ["lam", "sao", "de", "mo", "tai", "khoan"]
    assert [t.text for t in tokens] == ["làm", "sao", "để", "mở", "tài", "khoản"]


def test_empty_message_gets_a_placeholder_token(tmp_path):
    component, *_ = make(tmp_path)
    assert [t.text for t in tokens_of(component, "")] == ["__empty__"]
    assert [t.text for t in tokens_of(component, "🤔🤔")] == ["__empty__"]


def test_tables_are_stored_in_the_model(tmp_path):
    data_file = tmp_path / "abbr.yml"
    data_file.write_text("abbreviations:\n  xyz: thanh toán\n", encoding="utf-8")
    component, storage, resource, config, context = make(tmp_path / "model", data_path=str(data_file), views="both")
    component.train(TrainingData())
    data_file.write_text("abbreviations:\n  xyz: khác hẳn\n", encoding="utf-8")

    loaded = VietnameseNormalizer.load(config, storage, resource, context)
    assert [t.lemma for t in tokens_of(loaded, "xyz")] == ["thanh", "toan"]
    assert [t.text for t in tokens_of(loaded, "xyz")] == ["thanh", "toán"]


def test_fingerprint_follows_the_data_file(tmp_path):
    data_file = tmp_path / "abbr.yml"
    data_file.write_text("abbreviations:\n  xyz: một\n", encoding="utf-8")
    before = VietnameseNormalizer.fingerprint_addon({"data_path": str(data_file)})
    data_file.write_text("abbreviations:\n  xyz: hai\n", encoding="utf-8")
    assert VietnameseNormalizer.fingerprint_addon({"data_path": str(data_file)}) != before


def test_max_tokens_bounds_a_huge_message(tmp_path):
    component, *_ = make(tmp_path, max_tokens=64)
    assert len(tokens_of(component, "mở tài khoản " * 2000)) == 64


# The two views as the featurizers of config.yml see them: word counts on the
# text as written (use_lemma: false) and on the folded view (use_lemma: true).


def featurizers(tmp_path, training_texts):
    normalizer, *_ = make(tmp_path / "normalizer", views="both")
    (tmp_path / "featurizers").mkdir()
    storage = LocalModelStorage(tmp_path / "featurizers")
    context = ExecutionContext(GraphSchema({}), "test")
    views = {}
    for view, use_lemma in (("written", False), ("folded", True)):
        config = {**CountVectorsFeaturizer.get_default_config(), "use_lemma": use_lemma, "alias": view}
        views[view] = CountVectorsFeaturizer.create(config, storage, Resource(view), context)
    training = TrainingData([Message(data={TEXT: t, INTENT: "any"}) for t in training_texts])
    normalizer.process_training_data(training)
    for featurizer in views.values():
        featurizer.train(training)

    def sentence_vector(text, view):
        message = Message(data={TEXT: text})
        normalizer.process([message])
        views[view].process([message])
        _, sentence = message.get_sparse_features(TEXT, [view])
        return sentence.features.toarray().tolist()

    return sentence_vector


def test_a_pair_told_apart_only_by_diacritics_differs_as_written(tmp_path):
    vector = featurizers(tmp_path, ["tôi muốn bán nhà", "tôi cần mua bàn ghế", "mất thẻ", "quên mật khẩu"])
    assert vector("bán", "written") != vector("bàn", "written")
    assert vector("mất", "written") != vector("mật", "written")
    assert vector("bán", "written") == vector("Bán", "written")


def test_the_pair_still_matches_when_typed_without_diacritics(tmp_path):
    vector = featurizers(tmp_path, ["tôi muốn bán nhà", "tôi cần mua bàn ghế", "mất thẻ", "quên mật khẩu"])
    assert vector("ban", "folded") == vector("bán", "folded") == vector("bàn", "folded")
    assert vector("mat the", "folded") == vector("mất thẻ", "folded")
    assert any(vector("ban", "folded")[0])  # a known word, not out of vocabulary


def test_abbreviations_and_stretched_letters_are_normalised_in_both_views(tmp_path):
    vector = featurizers(tmp_path, ["không được", "tài khoản"])
    for view in ("written", "folded"):
        assert vector("kooo đcccc", view) == vector("không được", view)
        assert vector("tk", view) == vector("tài khoản", view)


def test_training_also_sees_examples_written_with_diacritics_without_them(tmp_path):
    component, *_ = make(tmp_path, views="both", folded_copies=True)
    entity = {"start": 0, "end": 8, "value": "Agribank", "entity": "bank"}
    training = TrainingData(
        [
            Message(data={TEXT: "mất thẻ", INTENT: "lost_card"}),
            Message(data={TEXT: "quên mật khẩu", INTENT: "forgot_password"}),
            Message(data={TEXT: "quen mat khau", INTENT: "forgot_password"}),
            Message(data={TEXT: "Agribank ở đâu", INTENT: "bank", "entities": [entity]}),
        ]
    )
    trained = component.process_training_data(training)
    examples = [(m.get(TEXT), m.get(INTENT)) for m in trained.intent_examples]
    assert ("mat the", "lost_card") in examples
    assert examples.count(("quen mat khau", "forgot_password")) == 1
    assert not any(text == "Agribank o dau" for text, _ in examples)
    copy = next(m for m in trained.intent_examples if m.get(TEXT) == "mat the")
    assert [t.lemma for t in copy.get(TOKENS_NAMES[TEXT])] == ["mat", "the"]


def test_folded_copies_are_off_by_default(tmp_path):
    component, *_ = make(tmp_path)
    trained = component.process_training_data(TrainingData([Message(data={TEXT: "mất thẻ", INTENT: "lost_card"})]))
    assert [m.get(TEXT) for m in trained.intent_examples] == ["mất thẻ"]
