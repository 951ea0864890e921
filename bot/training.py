"""Train the Rasa model only when its inputs changed.

The model file is named after a hash of everything that shapes it (config,
domain, training data, our NLU components and their data files), so "is there
a model that fits the data?" is one file look-up, without starting Rasa.
When training is needed, `rasa train` still reuses its cache for the
components whose inputs did not change.
"""
from __future__ import annotations

import hashlib
import logging
import subprocess
import sys
from pathlib import Path
from typing import Iterable, List, Optional

from bot.settings import MODELS_DIR, PROJECT_ROOT

logger = logging.getLogger(__name__)

MODEL_PREFIX = "tro-ly-so-"
TRAINING_INPUTS = ("config.yml", "domain", "nlu_data", "bot/nlu", "bot/policies.py")
KEEP_MODELS = 3


def _input_files(root: Path, inputs: Iterable[str]) -> List[Path]:
    files: List[Path] = []
    for name in inputs:
        path = root / name
        if path.is_file():
            files.append(path)
        elif path.is_dir():
            files.extend(
                p for p in path.rglob("*")
                if p.is_file() and p.suffix in {".yml", ".yaml", ".py", ".txt", ".csv"}
            )
    return sorted(files)


def fingerprint(root: Path = PROJECT_ROOT, inputs: Iterable[str] = TRAINING_INPUTS) -> str:
    """A hash of the training inputs' paths and contents."""
    digest = hashlib.sha256()
    for path in _input_files(root, inputs):
        digest.update(path.relative_to(root).as_posix().encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:16]


def model_path(root: Path = PROJECT_ROOT, models_dir: Path = MODELS_DIR) -> Path:
    """Where the model for the current inputs is (or will be)."""
    return models_dir / f"{MODEL_PREFIX}{fingerprint(root)}.tar.gz"


def ensure_model(
    root: Path = PROJECT_ROOT, models_dir: Path = MODELS_DIR, force: bool = False
) -> Path:
    """Return a model that fits the current data, training one if needed."""
    target = model_path(root, models_dir)
    if target.exists() and not force:
        logger.info("Model is up to date: %s", target.name)
        return target
    logger.info("Training %s (this takes a few minutes the first time)", target.name)
    command = [
        sys.executable, "-m", "rasa", "train",
        "--config", str(root / "config.yml"),
        "--domain", str(root / "domain"),
        "--data", str(root / "nlu_data"),
        "--out", str(models_dir),
        "--fixed-model-name", target.name[: -len(".tar.gz")],
    ]
    if force:
        command.append("--force")
    subprocess.run(command, cwd=root, check=True)
    if not target.exists():
        raise RuntimeError(f"rasa train finished but {target} is missing")
    prune_models(models_dir, keep=target)
    return target


def prune_models(models_dir: Path, keep: Path, count: int = KEEP_MODELS) -> List[Path]:
    """Delete all but the newest `count` models (never `keep`)."""
    models = sorted(
        models_dir.glob(f"{MODEL_PREFIX}*.tar.gz"), key=lambda p: p.stat().st_mtime, reverse=True
    )
    removed = [p for p in models[count:] if p != keep]
    for path in removed:
        path.unlink()
    return removed


def latest_model(models_dir: Path = MODELS_DIR) -> Optional[Path]:
    """The most recently trained model, if any."""
    models = sorted(models_dir.glob(f"{MODEL_PREFIX}*.tar.gz"), key=lambda p: p.stat().st_mtime)
    return models[-1] if models else None
