"""Rasa tokenizer that hands the featurizers a normalised Vietnamese view, or two.

Tokens come from :class:`bot.nlu.normalizer.TextNormalizer`. With the default
``views: folded`` each token's text and lemma are the folded, expanded form
("đc" -> "duoc", "tk" -> "tai", "khoan"). With ``views: both`` they differ:

- ``token.text`` is the text as written: NFC, lower case, abbreviations
  expanded, squashed, diacritics kept ("bán", "đc" -> "được");
- ``token.lemma`` is the folded view ("ban", "đc" -> "duoc").

Rasa's ``CountVectorsFeaturizer`` counts ``token.lemma`` by default
(``use_lemma: true``) and ``token.text`` with ``use_lemma: false``, so a
pipeline can give the classifier counts on each view: a message written with
diacritics is classified with their information ("bán" vs "bàn"), and one
typed without them still matches through the folded counts. With
``folded_copies: true`` every training example written with diacritics is
also trained on once with them stripped, so the classifier learns to rely on
the folded counts when the marks are missing (README, "NLU pipeline", has the
figures of both settings).

Spans stay on the original text, so the message itself is never rewritten and
entity offsets keep pointing at what the resident typed.

The abbreviation tables are read from the editable data file when the model is
trained and stored inside the model, so a trained model always normalises as
it did when it was trained. A change to the data file changes the component's
fingerprint, so ``rasa train`` retrains it and what depends on it.
"""
from __future__ import annotations

import hashlib
import json
import unicodedata
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.constants import ENTITIES, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.normalizer import DEFAULT_DATA_PATH, TextNormalizer, fold_diacritics

_TABLES_FILE = "normalizer_tables.json"


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=True
)
class VietnameseNormalizer(Tokenizer, GraphComponent):
    """Tokenizes Vietnamese text into normalised tokens (folded; optionally also as written)."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """Returns the component's default config."""
        return {
            **Tokenizer.get_default_config(),
            "intent_tokenization_flag": False,
            "intent_split_symbol": "_",
            "token_pattern": None,
            "prefix_separator_symbol": None,
            # Editable data file (abbreviations, units, emoji); None = the shipped one.
            "data_path": None,
            # Longer messages are cut to this many tokens for featurization.
            "max_tokens": 128,
            # "folded": token text and lemma folded; "both": text as written, lemma folded.
            "views": "folded",
            # Also train on each intent example written with diacritics with
            # them stripped (examples with entities are left alone).
            "folded_copies": False,
        }

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: Optional[ModelStorage] = None,
        resource: Optional[Resource] = None,
        tables: Optional[Dict[Text, Any]] = None,
    ) -> None:
        super().__init__(config)
        if config.get("views") not in ("folded", "both"):
            raise ValueError(f"VietnameseNormalizer: views must be 'folded' or 'both', not {config.get('views')!r}")
        self._written_text = config["views"] == "both"
        self._model_storage = model_storage
        self._resource = resource
        self._tables = tables if tables is not None else _read_tables(config)
        self.normalizer = TextNormalizer(
            abbreviations=self._tables.get("abbreviations"),
            emoji=self._tables.get("emoji"),
            units=self._tables.get("units"),
            max_tokens=int(config["max_tokens"]),
        )

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "VietnameseNormalizer":
        """Builds the component from the data file (training time)."""
        return cls(config, model_storage, resource)

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "VietnameseNormalizer":
        """Loads the tables stored in the trained model."""
        try:
            with model_storage.read_from(resource) as directory:
                tables = json.loads((directory / _TABLES_FILE).read_text(encoding="utf-8"))
        except (ValueError, FileNotFoundError):
            tables = None  # an older model without tables: fall back to the data file
        return cls(config, model_storage, resource, tables)

    @classmethod
    def fingerprint_addon(cls, config: Dict[str, Any]) -> Optional[str]:
        """Retrain when the data file or the normalising code changes (Rasa's
        training cache would otherwise hand later components the old output)."""
        path = Path(config.get("data_path") or DEFAULT_DATA_PATH)
        digest = hashlib.sha256(path.read_bytes())
        for module in (Path(__file__), Path(__file__).with_name("normalizer.py")):
            digest.update(module.read_bytes())
        return digest.hexdigest()

    def train(self, training_data: TrainingData) -> Resource:
        """Stores the tables in the model so inference matches training."""
        if self._model_storage is None or self._resource is None:
            raise RuntimeError("VietnameseNormalizer needs model storage to train")
        with self._model_storage.write_to(self._resource) as directory:
            (directory / _TABLES_FILE).write_text(
                json.dumps(self._tables, ensure_ascii=False), encoding="utf-8"
            )
        return self._resource

    def tokenize(self, message: Message, attribute: Text) -> List[Token]:
        """Normalised tokens (text folded or as written, lemma folded) with spans on the original text."""
        text = message.get(attribute) or ""
        tokens = [
            Token(token.written if self._written_text else token.text, token.start, end=token.end, lemma=token.text)
            for token in self.normalizer.tokens(text)
        ]
        if not tokens:
            # Featurizers need at least one token; an empty or symbol-only
            # message gets one that no training example contains.
            tokens = [Token("__empty__", 0, end=len(text), lemma="__empty__")]
        return self._apply_token_pattern(tokens)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Tokenizes the training data (see :class:`Tokenizer`), with folded copies."""
        if self._config.get("folded_copies"):
            training_data = with_folded_copies(training_data)
        return super().process_training_data(training_data)


def with_folded_copies(training_data: TrainingData) -> TrainingData:
    """The training data plus, for every intent example written with
    diacritics, the same example without them (unless it is already there)."""
    examples = training_data.intent_examples
    texts = {example.get(TEXT) for example in examples}
    copies = []
    for example in examples:
        text = example.get(TEXT)
        if not isinstance(text, str) or example.get(ENTITIES):
            continue
        folded = fold_diacritics(unicodedata.normalize("NFC", text))
        if folded != text and folded not in texts:
            texts.add(folded)
            copies.append(Message(data={TEXT: folded, INTENT: example.get(INTENT)}))
    if not copies:
        return training_data
    # The same messages plus the copies (not ``merge``, which deep-copies them all).
    return TrainingData(
        training_examples=training_data.training_examples + copies,
        entity_synonyms=training_data.entity_synonyms,
        regex_features=training_data.regex_features,
        lookup_tables=training_data.lookup_tables,
        responses=training_data.responses,
    )


def _read_tables(config: Dict[Text, Any]) -> Dict[Text, Any]:
    import yaml

    path = Path(config.get("data_path") or DEFAULT_DATA_PATH)
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {key: dict(data.get(key) or {}) for key in ("abbreviations", "emoji", "units")}
