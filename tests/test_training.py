import os
import time

from bot.training import fingerprint, model_path, prune_models


def make_project(root):
    (root / "domain").mkdir(parents=True)
    (root / "nlu_data").mkdir()
    (root / "bot" / "nlu").mkdir(parents=True)
    (root / "config.yml").write_text("pipeline: []\n")
    (root / "domain" / "core.yml").write_text("intents: [greet]\n")
    (root / "nlu_data" / "nlu.yml").write_text("nlu: []\n")
    (root / "bot" / "nlu" / "abbreviations.yml").write_text("abbreviations: {}\n")
    return root


def test_fingerprint_changes_with_any_training_input(tmp_path):
    root = make_project(tmp_path)
    first = fingerprint(root)
    assert fingerprint(root) == first
    for relative in ["config.yml", "domain/core.yml", "nlu_data/nlu.yml", "bot/nlu/abbreviations.yml"]:
        path = root / relative
        original = path.read_text()
        path.write_text(original + "# changed\n")
        assert fingerprint(root) != first, relative
        path.write_text(original)
    assert fingerprint(root) == first


def test_fingerprint_ignores_unrelated_files(tmp_path):
    root = make_project(tmp_path)
    first = fingerprint(root)
    (root / "README.md").write_text("docs")
    (root / "nlu_data" / "notes.bak").write_text("x")
    assert fingerprint(root) == first


def test_model_path_is_named_after_the_fingerprint(tmp_path):
    root = make_project(tmp_path)
    path = model_path(root, tmp_path / "models")
    assert path.name == f"tro-ly-so-{fingerprint(root)}.tar.gz"


def test_prune_keeps_the_newest_and_the_current(tmp_path):
    models = []
    for index in range(5):
        path = tmp_path / f"tro-ly-so-{index}.tar.gz"
        path.write_text("m")
        os.utime(path, (time.time() + index, time.time() + index))
        models.append(path)
    removed = prune_models(tmp_path, keep=models[0], count=2)
    assert sorted(p.name for p in removed) == ["tro-ly-so-1.tar.gz", "tro-ly-so-2.tar.gz"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "tro-ly-so-0.tar.gz", "tro-ly-so-3.tar.gz", "tro-ly-so-4.tar.gz",
    ]
