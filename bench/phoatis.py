"""Outside benchmark: intent accuracy on PhoATIS, the Vietnamese ATIS.

    PHOATIS_DIR=/path/to/PhoATIS/syllable-level .venv/bin/python bench/phoatis.py
    ... bench/phoatis.py --json var/bench/phoatis.json [--only ours|baseline]

PhoATIS (Dao et al. 2021, "Intent detection and slot filling for Vietnamese",
INTERSPEECH 2021) is published in https://github.com/VinAIResearch/JointIDSF
as ``PhoATIS/syllable-level/{train,test}/{seq.in,label}`` (4,478 training and
893 test utterances). It is licensed for research only, so it is never part
of this repository: put a copy anywhere and point ``PHOATIS_DIR`` at the
``syllable-level`` folder (or at a folder holding it). Without it the script
says so and exits 0.

In one run it trains, with Rasa's cache off (so training times are from
scratch), two NLU models on the training split:

- ``ours``: the project's pipeline (the ``pipeline:`` of config.yml);
- ``baseline``: plain Rasa on the raw text, whitespace tokens, word and
  char_wb(1-4) counts, ``LogisticRegressionClassifier``;

then parses every test utterance in a fresh process twice, as written and
with its diacritics stripped (``bot.nlu.normalizer.fold_diacritics``), and
prints for each: intent accuracy and macro-F1 in both forms, training time,
and parse latency p50/p95 (as written). An utterance counts as right when the
classifier's top intent (``nlu_fallback`` left out of the ranking, since
PhoATIS has no out-of-scope class) is its label; how often our
FallbackClassifier would have fired is printed too.
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import json
import logging
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.nlu import run_measured  # noqa: E402
from bench.stats import percentile  # noqa: E402
from bot.nlu.normalizer import fold_diacritics  # noqa: E402

SOURCE = "https://github.com/VinAIResearch/JointIDSF (PhoATIS/syllable-level)"
FALLBACK = "nlu_fallback"
BASELINE_PIPELINE: List[Dict[str, Any]] = [
    {"name": "WhitespaceTokenizer"},
    {"name": "CountVectorsFeaturizer"},
    {"name": "CountVectorsFeaturizer", "analyzer": "char_wb", "min_ngram": 1, "max_ngram": 4},
    {"name": "LogisticRegressionClassifier"},
]
FORMS = ("written", "folded")

Split = List[Tuple[str, str]]


def find_data(given: Optional[str]) -> Optional[Path]:
    """The syllable-level folder under ``given`` (itself or a parent of it), or None."""
    if not given:
        return None
    base = Path(given)
    for candidate in (base, base / "syllable-level", base / "PhoATIS" / "syllable-level"):
        if all((candidate / split / name).is_file() for split in ("train", "test") for name in ("seq.in", "label")):
            return candidate
    return None


def read_split(folder: Path) -> Split:
    texts = (folder / "seq.in").read_text(encoding="utf-8").splitlines()
    labels = (folder / "label").read_text(encoding="utf-8").splitlines()
    if len(texts) != len(labels):
        raise SystemExit(f"{folder}: {len(texts)} utterances but {len(labels)} labels")
    return [(t.strip(), l.strip()) for t, l in zip(texts, labels) if t.strip()]


def write_training_data(items: Split, path: Path) -> None:
    by_intent: Dict[str, List[str]] = collections.defaultdict(list)
    for text, label in items:
        by_intent[label].append(text)
    nlu = [
        {"intent": label, "examples": "".join(f"- {text}\n" for text in texts)}
        for label, texts in sorted(by_intent.items())
    ]
    path.write_text(yaml.safe_dump({"version": "3.1", "nlu": nlu}, allow_unicode=True), encoding="utf-8")


def write_config(pipeline: List[Dict[str, Any]], name: str, path: Path) -> None:
    config = {"recipe": "default.v1", "assistant_id": f"phoatis-{name}", "language": "vi",
              "pipeline": pipeline, "policies": []}
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")


def project_pipeline(config: Path) -> List[Dict[str, Any]]:
    return yaml.safe_load(config.read_text(encoding="utf-8"))["pipeline"]


def train(name: str, config: Path, nlu: Path, out: Path, env: Dict[str, str]) -> Dict[str, Any]:
    command = [
        sys.executable, "-m", "rasa", "train", "nlu", "--config", str(config), "--nlu", str(nlu),
        "--out", str(out), "--fixed-model-name", name,
    ]
    seconds, rss, code = run_measured(command, env)
    if code != 0:
        raise SystemExit(f"training {name} failed with exit code {code}")
    return {"model": str(out / f"{name}.tar.gz"), "train_seconds": seconds, "train_peak_rss_mib": rss}


async def _parse_all(model: str, items: Split) -> List[Dict[str, Any]]:
    from rasa.core.agent import Agent

    agent = Agent.load(model)
    for text, _ in items[:10]:  # warm-up (graph and TF functions)
        await agent.parse_message(text)
    rows = []
    for text, expected in items:
        row: Dict[str, Any] = {"text": text, "expected": expected}
        for form in FORMS:
            typed = text if form == "written" else fold_diacritics(text)
            started = time.perf_counter()
            parsed = await agent.parse_message(typed)
            latency_ms = (time.perf_counter() - started) * 1000
            ranking = [r for r in parsed.get("intent_ranking") or [] if r.get("name") != FALLBACK]
            row[form] = {
                "predicted": ranking[0]["name"] if ranking else parsed["intent"]["name"],
                "fallback": parsed["intent"]["name"] == FALLBACK,
                "latency_ms": latency_ms,
            }
        rows.append(row)
    return rows


def evaluate(model: str, test: Path, out: Path) -> None:
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)
    logging.getLogger().setLevel(logging.WARNING)
    rows = asyncio.run(_parse_all(model, read_split(test)))
    out.write_text(json.dumps({"rows": rows}, ensure_ascii=False), encoding="utf-8")


def evaluate_in_child(model: str, test: Path, out: Path, env: Dict[str, str]) -> Dict[str, Any]:
    command = [sys.executable, __file__, "--evaluate", model, "--test", str(test), "--json", str(out)]
    _, rss, code = run_measured(command, env)
    if code != 0:
        raise SystemExit(f"evaluating {model} failed with exit code {code}")
    result = json.loads(out.read_text(encoding="utf-8"))
    result["serve_peak_rss_mib"] = rss
    return result


def summarize(rows: List[Dict[str, Any]]) -> Dict[str, Any]:
    from sklearn.metrics import f1_score

    truth = [r["expected"] for r in rows]
    summary: Dict[str, Any] = {"n": len(rows)}
    for form in FORMS:
        predicted = [r[form]["predicted"] for r in rows]
        summary[f"accuracy_{form}"] = sum(p == t for p, t in zip(predicted, truth)) / len(rows)
        summary[f"macro_f1_{form}"] = f1_score(truth, predicted, labels=sorted(set(truth)), average="macro",
                                              zero_division=0)
        summary[f"fallback_rate_{form}"] = sum(r[form]["fallback"] for r in rows) / len(rows)
    latencies = [r["written"]["latency_ms"] for r in rows]
    summary["latency_p50_ms"] = statistics.median(latencies)
    summary["latency_p95_ms"] = percentile(latencies, 0.95)
    return summary


def print_report(results: Dict[str, Dict[str, Any]]) -> None:
    names = list(results)
    print(f"\nPhoATIS intent detection ({SOURCE}), test n={results[names[0]]['summary']['n']}")
    header = f"{'metric':34}" + "".join(f"{n:>12}" for n in names)
    print(header)
    print("-" * len(header))
    rows = [
        ("accuracy as written", lambda s: f"{s['accuracy_written']:.3f}"),
        ("accuracy without diacritics", lambda s: f"{s['accuracy_folded']:.3f}"),
        ("macro-F1 as written", lambda s: f"{s['macro_f1_written']:.3f}"),
        ("macro-F1 without diacritics", lambda s: f"{s['macro_f1_folded']:.3f}"),
        ("fallback would fire, written", lambda s: f"{s['fallback_rate_written']:.3f}"),
        ("fallback would fire, no diacr.", lambda s: f"{s['fallback_rate_folded']:.3f}"),
        ("parse p50 (ms)", lambda s: f"{s['latency_p50_ms']:.1f}"),
        ("parse p95 (ms)", lambda s: f"{s['latency_p95_ms']:.1f}"),
    ]
    for label, fmt in rows:
        print(f"{label:34}" + "".join(f"{fmt(results[n]['summary']):>12}" for n in names))
    for label, key in (("training time (s)", "train_seconds"), ("training peak RSS (MiB)", "train_peak_rss_mib"),
                       ("serving peak RSS (MiB)", "serve_peak_rss_mib")):
        print(f"{label:34}" + "".join(f"{results[n][key]:>12.0f}" for n in names))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", default=os.environ.get("PHOATIS_DIR"), help="PhoATIS folder (default $PHOATIS_DIR)")
    parser.add_argument("--json", type=Path, help="write all figures as JSON here")
    parser.add_argument("--only", choices=["ours", "baseline"], action="append", help="benchmark only these")
    parser.add_argument("--config", type=Path, default=ROOT / "config.yml", help="our pipeline from this file")
    parser.add_argument("--work", type=Path, help="keep training data and models here (default: a temporary folder)")
    parser.add_argument("--evaluate", metavar="MODEL", help=argparse.SUPPRESS)
    parser.add_argument("--test", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.evaluate:
        evaluate(args.evaluate, args.test, args.json)
        return 0

    data = find_data(args.data)
    if data is None:
        print(
            "PhoATIS not found: skipped. It is research-only data and not part of this repository; "
            f"get it from {SOURCE} and set PHOATIS_DIR to its syllable-level folder."
        )
        return 0

    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "RASA_MAX_CACHE_SIZE": "0", "TF_CPP_MIN_LOG_LEVEL": "2"}
    pipelines = {"ours": project_pipeline(args.config), "baseline": BASELINE_PIPELINE}
    results: Dict[str, Dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="phoatis-bench-") as tmp:
        work = args.work or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        nlu = work / "train.yml"
        write_training_data(read_split(data / "train"), nlu)
        for name in args.only or list(pipelines):
            config = work / f"{name}.yml"
            write_config(pipelines[name], name, config)
            print(f"== training {name} on {data / 'train'}", flush=True)
            result = train(name, config, nlu, work, env)
            print(f"== evaluating {name} on {data / 'test'}", flush=True)
            result.update(evaluate_in_child(result["model"], data / "test", work / f"{name}.json", env))
            result["summary"] = summarize(result["rows"])
            results[name] = result
    print_report(results)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {n: {k: v for k, v in r.items() if k != "model"} for n, r in results.items()}
        args.json.write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
