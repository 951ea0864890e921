from pathlib import Path

from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.constants import TOKENS_NAMES
from rasa.shared.nlu.constants import TEXT
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


def test_tokens_are_folded_but_the_text_is_untouched(tmp_path):
    component, *_ = make(tmp_path)
    message = Message(data={TEXT: "Mở TK ở ngân hàng kooo đcccc"})
    component.process([message])
    assert message.get(TEXT) == "Mở TK ở ngân hàng kooo đcccc"
    assert [t.text for t in message.get(TOKENS_NAMES[TEXT])] == [
        "mo", "tai", "khoan", "o", "ngan", "hang", "khong", "duoc",
    ]


def test_training_data_is_tokenized_the_same_way(tmp_path):
    component, *_ = make(tmp_path)
    example = Message(data={TEXT: "làm sao để mở tài khoản", "intent": "ask_open_bank_account"})
    component.process_training_data(TrainingData([example]))
    assert [t.text for t in example.get(TOKENS_NAMES[TEXT])] == ["lam", "sao", "de", "mo", "tai", "khoan"]


def test_empty_message_gets_a_placeholder_token(tmp_path):
    component, *_ = make(tmp_path)
    assert [t.text for t in tokens_of(component, "")] == ["__empty__"]
    assert [t.text for t in tokens_of(component, "🤔🤔")] == ["__empty__"]


def test_tables_are_stored_in_the_model(tmp_path):
    data_file = tmp_path / "abbr.yml"
    data_file.write_text("abbreviations:\n  xyz: thanh toán\n", encoding="utf-8")
    component, storage, resource, config, context = make(tmp_path / "model", data_path=str(data_file))
    component.train(TrainingData())
    data_file.write_text("abbreviations:\n  xyz: khác hẳn\n", encoding="utf-8")

    loaded = VietnameseNormalizer.load(config, storage, resource, context)
    assert [t.text for t in tokens_of(loaded, "xyz")] == ["thanh", "toan"]


def test_fingerprint_follows_the_data_file(tmp_path):
    data_file = tmp_path / "abbr.yml"
    data_file.write_text("abbreviations:\n  xyz: một\n", encoding="utf-8")
    before = VietnameseNormalizer.fingerprint_addon({"data_path": str(data_file)})
    data_file.write_text("abbreviations:\n  xyz: hai\n", encoding="utf-8")
    assert VietnameseNormalizer.fingerprint_addon({"data_path": str(data_file)}) != before


def test_max_tokens_bounds_a_huge_message(tmp_path):
    component, *_ = make(tmp_path, max_tokens=64)
    assert len(tokens_of(component, "mở tài khoản " * 2000)) == 64
