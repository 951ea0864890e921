"""Intent classifier: a linear SVM on the sentence counts of both text views.

Rasa's featurizers (``CountVectorsFeaturizer``, one per view and analyzer)
give every message a sparse sentence vector per featurizer. This classifier
scales each featurizer's block to unit length (so a long message or the
denser char n-grams do not drown the word counts), puts the blocks side by
side and scores them with scikit-learn's ``LinearSVC`` (one-vs-rest, squared
hinge loss). The scores become confidences by a softmax with a fixed
sharpness (``confidence_scale``) that also holds a "no intent" score
(``null_score``): gibberish, which every intent scores below it, gets low
confidences and the ``FallbackClassifier`` of config.yml answers it
(bench/nlu.py sweeps that threshold).

Why not DIET: on the sentence counts of both views, a linear SVM is more
accurate (PhoATIS, bench/phoatis.py; the project's held-out set, bench/nlu.py),
trains in seconds and parses in well under a millisecond, with no TensorFlow
call per message (README, "NLU pipeline", has the figures).

The trained model is stored as plain arrays (``numpy.savez``, no pickle) and
scored with one sparse matrix product, so loading a model never runs code.
"""
from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Any, Dict, List, Optional, Text, Tuple, Type

import numpy as np
import scipy.sparse

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.featurizers.featurizer import Featurizer
from rasa.shared.nlu.constants import (
    FEATURE_TYPE_SENTENCE,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

logger = logging.getLogger(__name__)

_ARRAYS_FILE = "linear_intent_classifier.npz"
_META_FILE = "linear_intent_classifier.json"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class LinearIntentClassifier(IntentClassifier, GraphComponent):
    """Linear SVM over the unit-scaled sentence features of every featurizer."""

    @classmethod
    def required_components(cls) -> List[Type]:
        return [Featurizer]

    @staticmethod
    def required_packages() -> List[Text]:
        return ["sklearn"]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            # LinearSVC regularisation (larger = fits the training data harder).
            "C": 1.0,
            # Softmax sharpness applied to the SVM scores to give confidences.
            "confidence_scale": 8.0,
            # Score of "no intent" in that softmax: a message no intent claims
            # (every score below it, as for gibberish) gets low confidences.
            "null_score": -0.5,
            # Intents kept in the ranking (0 = all).
            "ranking_length": 10,
            "max_iter": 2000,
            "random_seed": 42,
        }

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        weights: Optional[np.ndarray] = None,
        intercepts: Optional[np.ndarray] = None,
        classes: Optional[List[Text]] = None,
        origins: Optional[List[Text]] = None,
        widths: Optional[Dict[Text, int]] = None,
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self._weights = weights  # (features, classes)
        self._intercepts = intercepts
        self._classes = classes or []
        self._origins = origins or []  # featurizers whose blocks are scored, in order
        self._widths = widths or {}  # featurizer -> block width

    @classmethod
    def fingerprint_addon(cls, config: Dict[Text, Any]) -> Optional[str]:
        """Retrain when this code changes (Rasa's training cache would keep the old model)."""
        return hashlib.sha256(Path(__file__).read_bytes()).hexdigest()

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "LinearIntentClassifier":
        return cls(config, model_storage, resource)

    # -- features ---------------------------------------------------------

    def _blocks(self, message: Message) -> Dict[Text, scipy.sparse.spmatrix]:
        """Sparse sentence features of the message text, by featurizer."""
        return {
            feature.origin: feature.features
            for feature in message.features
            if feature.attribute == TEXT and feature.type == FEATURE_TYPE_SENTENCE and feature.is_sparse()
        }

    def _unit_blocks(self, message: Message) -> List[Tuple[int, np.ndarray, np.ndarray]]:
        """(offset, columns, values) of every featurizer's block, scaled to unit length."""
        blocks = self._blocks(message)
        found = []
        offset = 0
        for origin in self._origins:
            block = blocks.get(origin)
            if block is not None:
                block = block.tocoo()
                values = block.data.astype(np.float64)
                norm = np.sqrt(np.dot(values, values))
                if norm > 0:
                    found.append((offset, block.col, values / norm))
            offset += self._widths[origin]
        return found

    def _matrix(self, messages: List[Message]) -> scipy.sparse.csr_matrix:
        """One row per message: the unit-scaled blocks side by side."""
        rows, columns, values = [], [], []
        for row, message in enumerate(messages):
            for offset, block_columns, block_values in self._unit_blocks(message):
                rows.append(np.full(len(block_columns), row))
                columns.append(block_columns + offset)
                values.append(block_values)
        width = sum(self._widths[origin] for origin in self._origins)
        if not values:
            return scipy.sparse.csr_matrix((len(messages), width))
        return scipy.sparse.csr_matrix(
            (np.concatenate(values), (np.concatenate(rows), np.concatenate(columns))), shape=(len(messages), width)
        )

    def _scores(self, message: Message) -> np.ndarray:
        """The SVM score of every intent: a few rows of the weights, summed (no sparse matrices)."""
        scores = self._intercepts.astype(np.float64)
        for offset, columns, values in self._unit_blocks(message):
            scores = scores + values @ self._weights[columns + offset]
        return scores

    # -- training ---------------------------------------------------------

    def train(self, training_data: TrainingData) -> Resource:
        from sklearn.svm import LinearSVC

        examples = [e for e in training_data.intent_examples if e.get(INTENT) and e.get(TEXT)]
        labels = sorted({e.get(INTENT) for e in examples})
        if len(labels) < 2:
            logger.warning("LinearIntentClassifier needs at least two intents; not trained.")
            self._persist()
            return self._resource
        widths: Dict[Text, int] = {}
        for example in examples:
            for origin, block in self._blocks(example).items():
                widths[origin] = block.shape[-1]
        self._origins = sorted(widths)
        self._widths = widths
        x = self._matrix(examples)
        y = [e.get(INTENT) for e in examples]
        svm = LinearSVC(
            C=float(self._config["C"]),
            max_iter=int(self._config["max_iter"]),
            random_state=int(self._config["random_seed"]),
        )
        svm.fit(x, y)
        self._classes = [str(c) for c in svm.classes_]
        coef, intercept = svm.coef_, svm.intercept_
        if len(self._classes) == 2:  # binary: one score for the second class
            coef = np.vstack([-coef[0], coef[0]])
            intercept = np.array([-intercept[0], intercept[0]])
        self._weights = np.ascontiguousarray(coef.T, dtype=np.float32)
        self._intercepts = intercept.astype(np.float32)
        self._persist()
        return self._resource

    def _persist(self) -> None:
        with self._model_storage.write_to(self._resource) as directory:
            meta = {"classes": self._classes, "origins": self._origins, "widths": self._widths}
            (directory / _META_FILE).write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
            if self._weights is not None:
                np.savez(directory / _ARRAYS_FILE, weights=self._weights, intercepts=self._intercepts)

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "LinearIntentClassifier":
        try:
            with model_storage.read_from(resource) as directory:
                meta = json.loads((directory / _META_FILE).read_text(encoding="utf-8"))
                arrays_file = directory / _ARRAYS_FILE
                if not arrays_file.exists():
                    return cls(config, model_storage, resource)
                with np.load(arrays_file, allow_pickle=False) as arrays:
                    weights, intercepts = arrays["weights"], arrays["intercepts"]
        except (ValueError, FileNotFoundError):
            logger.warning("LinearIntentClassifier: no trained model found; it will not classify.")
            return cls(config, model_storage, resource)
        widths = {origin: int(width) for origin, width in meta["widths"].items()}
        return cls(config, model_storage, resource, weights, intercepts, meta["classes"], meta["origins"], widths)

    # -- inference --------------------------------------------------------

    def process(self, messages: List[Message]) -> List[Message]:
        if self._weights is None or not messages:
            return messages
        for message in messages:
            ranking = self.ranking(self._scores(message))
            message.set(INTENT, ranking[0], add_to_output=True)
            length = int(self._config["ranking_length"])
            message.set(INTENT_RANKING_KEY, ranking[:length] if length > 0 else ranking, add_to_output=True)
        return messages

    def ranking(self, scores: np.ndarray) -> List[Dict[Text, Any]]:
        """Intents by confidence, highest first.

        A softmax of the sharpened scores together with a "no intent" score
        (``null_score``), which keeps its share: the confidences sum to less
        than one, and to almost nothing when no intent's score beats it.
        """
        scale = float(self._config["confidence_scale"])
        sharp = scores.astype(np.float64) * scale
        null = float(self._config["null_score"]) * scale
        top = max(float(sharp.max()), null)
        confidences = np.exp(sharp - top)
        confidences /= confidences.sum() + np.exp(null - top)
        order = np.argsort(-confidences, kind="stable")
        return [
            {INTENT_NAME_KEY: self._classes[i], PREDICTED_CONFIDENCE_KEY: float(confidences[i])} for i in order
        ]

