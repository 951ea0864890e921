"""NLU benchmark: our pipeline against Rasa's stock pipeline, on the held-out set.

    .venv/bin/python bench/nlu.py            # trains both from scratch, evaluates, prints
    .venv/bin/python bench/nlu.py --json var/bench/nlu.json

For each pipeline it trains an NLU model on nlu_data/ with Rasa's cache off
(so the training time is from scratch), then parses every utterance of
tests/nlu_holdout.yml (never trained on) in a fresh process, and reports:
intent accuracy overall and per variant (with diacritics, without diacritics,
with teencode/abbreviations), macro-F1, the most frequent confusions, parse
latency p50/p95, training time, and the peak RSS of training and of serving.
`out_of_scope` counts as right when recognised as `out_of_scope` or as
`nlu_fallback` (the catalogue's contract). It also sweeps the
FallbackClassifier threshold on our model's raw confidences, and parses every
utterance a second time with its diacritics stripped, to report the held-out
set as written vs folded (the same utterances, with and without their marks).

Both pipelines run in the same invocation, so the gain is a ratio measured on
the same machine at the same time.

Issue 14 figures, per pipeline: the scam guard on tests/scam_holdout.yml
(recall on scams, false alarms on look-alikes, for the whole model and for the
always-on core alone), long messages (25 words or more) of the held-out set on
their own, and the topics added in issue 14. `--model NAME=PATH` evaluates an
already trained model instead of training one (e.g. main's model, for the
"before" column).
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Tuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.stats import percentile  # noqa: E402
from bot.text_variants import variants  # noqa: E402

FALLBACK = "nlu_fallback"
OUT_OF_SCOPE = "out_of_scope"
PIPELINES = {
    "ours": ROOT / "config.yml",
    "stock": ROOT / "bench" / "stock_config.yml",
    # issue 16: counts on both views and a linear SVM (not yet in config.yml)
    "two_views": ROOT / "bot" / "nlu" / "pipeline_two_views.yml",
}
SCAM_HOLDOUT = ROOT / "tests" / "scam_holdout.yml"
SCAM_INTENT = "report_scam"
NOT_SCAM = "not_scam"
LONG_WORDS = 25
NEW_TOPICS = ["ask_vneid_social_account", "ask_social_pension", "ask_otp_problem", "ask_app_locked", "ask_lost_card"]


def read_holdout(path: Path) -> List[Tuple[str, str]]:
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    items = []
    for block in data["nlu"]:
        for line in block["examples"].splitlines():
            line = line.strip()
            if line.startswith("- "):
                items.append((line[2:].strip(), block["intent"]))
    return items


def is_correct(expected: str, predicted: str) -> bool:
    return predicted == expected or (expected == OUT_OF_SCOPE and predicted == FALLBACK)


def run_measured(command: List[str], env: Dict[str, str]) -> Tuple[float, float, int]:
    """Run a command; return (seconds, peak RSS in MiB, exit code)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, env=env)
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    return seconds, usage.ru_maxrss / 1024, os.waitstatus_to_exitcode(status)


def train(name: str, config: Path, out: Path, env: Dict[str, str]) -> Dict[str, Any]:
    command = [
        sys.executable, "-m", "rasa", "train", "nlu",
        "--config", str(config), "--nlu", str(ROOT / "nlu_data"),
        "--out", str(out), "--fixed-model-name", name,
    ]
    seconds, rss, code = run_measured(command, env)
    if code != 0:
        raise SystemExit(f"training {name} failed with exit code {code}")
    return {"model": str(out / f"{name}.tar.gz"), "train_seconds": seconds, "train_peak_rss_mib": rss}


def evaluate_in_child(model: str, holdout: Path, out: Path, env: Dict[str, str]) -> Dict[str, Any]:
    command = [sys.executable, __file__, "--evaluate", model, "--holdout", str(holdout), "--json", str(out)]
    _, rss, code = run_measured(command, env)
    if code != 0:
        raise SystemExit(f"evaluating {model} failed with exit code {code}")
    result = json.loads(out.read_text(encoding="utf-8"))
    result["serve_peak_rss_mib"] = rss
    return result


async def _parse_all(model: str, items: List[Tuple[str, str]]) -> List[Dict[str, Any]]:
    from rasa.core.agent import Agent

    agent = Agent.load(model)
    for text, _ in items[:10]:  # warm-up (graph and TF functions)
        await agent.parse_message(text)
    rows = []
    for text, expected in items:
        started = time.perf_counter()
        parsed = await agent.parse_message(text)
        latency_ms = (time.perf_counter() - started) * 1000
        ranking = [r for r in parsed.get("intent_ranking") or [] if r.get("name") != FALLBACK]
        rows.append(
            {
                "text": text,
                "expected": expected,
                "predicted": parsed["intent"]["name"],
                "raw_top": ranking[0]["name"] if ranking else None,
                "raw_confidence": ranking[0]["confidence"] if ranking else 0.0,
                "latency_ms": latency_ms,
            }
        )
    return rows


def evaluate(model: str, holdout: Path, out: Path) -> None:
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)
    logging.getLogger().setLevel(logging.WARNING)
    rows = asyncio.run(_parse_all(model, read_holdout(holdout)))
    folded = asyncio.run(_parse_folded(model, read_holdout(holdout)))
    out.write_text(json.dumps({"rows": rows, "folded_rows": folded}, ensure_ascii=False), encoding="utf-8")


async def _parse_folded(model: str, items: List[Tuple[str, str]]) -> List[Dict[str, Any]]:
    """Every held-out utterance parsed again with its diacritics stripped."""
    from rasa.core.agent import Agent

    from bot.nlu.normalizer import fold_diacritics

    agent = Agent.load(model)
    rows = []
    for text, expected in items:
        parsed = await agent.parse_message(fold_diacritics(text))
        rows.append({"text": text, "expected": expected, "predicted": parsed["intent"]["name"]})
    return rows


def written_vs_folded(rows: List[Dict[str, Any]], folded_rows: List[Dict[str, Any]]) -> Dict[str, Any]:
    """Accuracy as written vs with the diacritics stripped: on all utterances,
    and on those written with diacritics (where the two forms differ)."""
    from bot.text_variants import has_diacritics

    def accuracy(pairs: List[Tuple[Dict[str, Any], Dict[str, Any]]], which: int) -> float:
        return sum(is_correct(p[which]["expected"], p[which]["predicted"]) for p in pairs) / max(1, len(pairs))

    pairs = list(zip(rows, folded_rows))
    marked = [p for p in pairs if has_diacritics(p[0]["text"])]
    return {
        "all": {"n": len(pairs), "written": accuracy(pairs, 0), "folded": accuracy(pairs, 1)},
        "with_diacritics": {"n": len(marked), "written": accuracy(marked, 0), "folded": accuracy(marked, 1)},
    }


def print_written_vs_folded(results: Dict[str, Dict[str, Any]]) -> None:
    print("\nheld-out set as written vs folded (diacritics stripped), intent accuracy:")
    for name, result in results.items():
        for subset, figures in result["written_vs_folded"].items():
            print(
                f"  {name:8} {subset:16} (n={figures['n']:3}): "
                f"as written {figures['written']:.3f}, folded {figures['folded']:.3f}"
            )


def summarize(rows: List[Dict[str, Any]]) -> Dict[str, Any]:
    from sklearn.metrics import f1_score

    by_variant: Dict[str, List[bool]] = collections.defaultdict(list)
    confusions: collections.Counter = collections.Counter()
    for row in rows:
        correct = is_correct(row["expected"], row["predicted"])
        row["correct"] = correct
        for variant in ["overall", *variants(row["text"])]:
            by_variant[variant].append(correct)
        if not correct:
            confusions[(row["expected"], row["predicted"])] += 1
    labels_true = [r["expected"] for r in rows]
    labels_pred = [
        OUT_OF_SCOPE if r["predicted"] == FALLBACK and r["expected"] == OUT_OF_SCOPE else r["predicted"]
        for r in rows
    ]
    latencies = [r["latency_ms"] for r in rows]
    return {
        "accuracy": {k: sum(v) / len(v) for k, v in by_variant.items()},
        "counts": {k: len(v) for k, v in by_variant.items()},
        "macro_f1": f1_score(labels_true, labels_pred, labels=sorted(set(labels_true)), average="macro"),
        "confusions": [(a, b, n) for (a, b), n in confusions.most_common(15)],
        "latency_p50_ms": statistics.median(latencies),
        "latency_p95_ms": percentile(latencies, 0.95),
    }


def threshold_sweep(rows: List[Dict[str, Any]]) -> List[Dict[str, float]]:
    """Accuracy if the fallback threshold were t, from the raw classifier confidences."""
    sweep = []
    for threshold in [0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]:
        right = in_scope_fallbacks = 0
        for row in rows:
            predicted = FALLBACK if row["raw_confidence"] < threshold else row["raw_top"]
            right += is_correct(row["expected"], predicted)
            in_scope_fallbacks += predicted == FALLBACK and row["expected"] != OUT_OF_SCOPE
        sweep.append(
            {"threshold": threshold, "accuracy": right / len(rows), "in_scope_fallbacks": in_scope_fallbacks}
        )
    return sweep


def write_scam_holdout_as_nlu(path: Path, out: Path) -> Path:
    """tests/scam_holdout.yml as an NLU file the evaluator reads (look-alikes as `not_scam`)."""
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    blocks = [
        {"intent": intent, "examples": "".join(f"- {text}\n" for text in data[key])}
        for key, intent in (("scam", SCAM_INTENT), ("lookalike", NOT_SCAM))
    ]
    out.write_text(yaml.safe_dump({"nlu": blocks}, allow_unicode=True), encoding="utf-8")
    return out


def scam_figures(rows: List[Dict[str, Any]]) -> Dict[str, Any]:
    """Recall on scams and false alarms on look-alikes: the model, and the always-on core alone."""
    from bot.nlu.scam_detector import default_detector

    scams = [r for r in rows if r["expected"] == SCAM_INTENT]
    lookalikes = [r for r in rows if r["expected"] == NOT_SCAM]
    core = default_detector()
    return {
        "scams": len(scams),
        "lookalikes": len(lookalikes),
        "recall": sum(r["predicted"] == SCAM_INTENT for r in scams) / max(1, len(scams)),
        "false_alarms": sum(r["predicted"] == SCAM_INTENT for r in lookalikes),
        "core_recall": sum(core.reason(r["text"]) is not None for r in scams) / max(1, len(scams)),
        "core_false_alarms": sum(core.reason(r["text"]) is not None for r in lookalikes),
        "missed": [r["text"] for r in scams if r["predicted"] != SCAM_INTENT],
        "alarms": [f"{r['text']} -> {r['predicted']}" for r in lookalikes if r["predicted"] == SCAM_INTENT],
    }


def is_long(text: str) -> bool:
    return len(text.split()) >= LONG_WORDS


def subset_figures(rows: List[Dict[str, Any]]) -> Dict[str, Any]:
    """Accuracy on long messages, and on the topics added in issue 14."""
    subsets = {
        f"long (>= {LONG_WORDS} words)": [r for r in rows if is_long(r["text"])],
        "short": [r for r in rows if not is_long(r["text"])],
        "new topics": [r for r in rows if r["expected"] in NEW_TOPICS],
    }
    return {
        name: {"n": len(items), "accuracy": sum(is_correct(r["expected"], r["predicted"]) for r in items) / len(items)}
        for name, items in subsets.items()
        if items
    }


def print_issue14_report(results: Dict[str, Dict[str, Any]]) -> None:
    names = list(results)
    print("\nScam guard on tests/scam_holdout.yml, long messages and new topics")
    header = f"{'metric':32}" + "".join(f"{n:>14}" for n in names)
    print(header)
    print("-" * len(header))
    first = results[names[0]]
    for key in ["recall", "false_alarms", "core_recall", "core_false_alarms"]:
        label = f"scam {key} (n={first['scam'][('scams' if 'recall' in key else 'lookalikes')]})"
        print(f"{label:32}" + "".join(f"{results[n]['scam'][key]:>14.3f}" for n in names))
    for subset, figures in first["subsets"].items():
        label = f"accuracy {subset} (n={figures['n']})"
        print(f"{label:32}" + "".join(f"{results[n]['subsets'].get(subset, {}).get('accuracy', 0):>14.3f}" for n in names))
    for name in names:
        print(f"\nscams missed ({name}): " + "; ".join(results[name]["scam"]["missed"]) or "none")
        print(f"false alarms ({name}): " + ("; ".join(results[name]["scam"]["alarms"]) or "none"))


def print_report(results: Dict[str, Dict[str, Any]], sweep: List[Dict[str, float]]) -> None:
    names = list(results)
    print("\nNLU benchmark on tests/nlu_holdout.yml")
    header = f"{'metric':32}" + "".join(f"{n:>14}" for n in names)
    print(header)
    print("-" * len(header))
    first = results[names[0]]["summary"]
    for variant in first["accuracy"]:
        label = f"accuracy {variant} (n={first['counts'][variant]})"
        print(f"{label:32}" + "".join(f"{results[n]['summary']['accuracy'][variant]:>14.3f}" for n in names))
    rows = [
        ("macro-F1", lambda r: f"{r['summary']['macro_f1']:.3f}"),
        ("parse p50 (ms)", lambda r: f"{r['summary']['latency_p50_ms']:.1f}"),
        ("parse p95 (ms)", lambda r: f"{r['summary']['latency_p95_ms']:.1f}"),
        ("training time (s)", lambda r: f"{r['train_seconds']:.0f}"),
        ("training peak RSS (MiB)", lambda r: f"{r['train_peak_rss_mib']:.0f}"),
        ("serving peak RSS (MiB)", lambda r: f"{r['serve_peak_rss_mib']:.0f}"),
    ]
    for label, fmt in rows:
        print(f"{label:32}" + "".join(f"{fmt(results[n]):>14}" for n in names))
    if len(names) > 1:
        a, b = names[0], names[1]
        ratio = results[a]["summary"]["accuracy"]["overall"] / max(1e-9, results[b]["summary"]["accuracy"]["overall"])
        print(f"\naccuracy ratio {a}/{b}: {ratio:.3f}")
    for name in names:
        print(f"\nmost frequent confusions ({name}): expected -> predicted (count)")
        for expected, predicted, count in results[name]["summary"]["confusions"][:10]:
            print(f"  {expected} -> {predicted} ({count})")
    print("\nfallback threshold sweep (first model, raw classifier confidence):")
    for entry in sweep:
        print(
            f"  threshold {entry['threshold']:.1f}: accuracy {entry['accuracy']:.3f}, "
            f"in-scope messages sent to fallback {entry['in_scope_fallbacks']}"
        )


def add_issue14_figures(result: Dict[str, Any], scam_holdout: Path, work: Path, name: str, env: Dict[str, str]) -> None:
    """Scam guard figures (a second evaluation, on the scam held-out file) and the subsets."""
    scam_file = write_scam_holdout_as_nlu(scam_holdout, work / f"{name}-scam-holdout.yml")
    scam = evaluate_in_child(result["model"], scam_file, work / f"{name}-scam.json", env)
    result["scam"] = scam_figures(scam["rows"])
    result["subsets"] = subset_figures(result["rows"])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--holdout", type=Path, default=ROOT / "tests" / "nlu_holdout.yml")
    parser.add_argument("--json", type=Path, help="write all figures as JSON here")
    parser.add_argument("--only", choices=sorted(PIPELINES), action="append", help="benchmark only these")
    parser.add_argument("--evaluate", metavar="MODEL", help=argparse.SUPPRESS)
    parser.add_argument("--model", action="append", default=[], metavar="NAME=PATH",
                        help="evaluate this trained model instead of training (repeatable)")
    parser.add_argument("--scam-holdout", type=Path, default=SCAM_HOLDOUT)
    args = parser.parse_args()

    if args.evaluate:
        evaluate(args.evaluate, args.holdout, args.json)
        return 0

    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "RASA_MAX_CACHE_SIZE": "0", "TF_CPP_MIN_LOG_LEVEL": "2"}
    results: Dict[str, Dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="nlu-bench-") as tmp:
        work = Path(tmp)
        given = dict(spec.split("=", 1) for spec in args.model)
        for name in list(given) or args.only or ["ours", "stock"]:
            if name in given:
                result = {"model": given[name], "train_seconds": 0.0, "train_peak_rss_mib": 0.0}
            else:
                print(f"== training {name} pipeline ({PIPELINES[name].relative_to(ROOT)})", flush=True)
                result = train(name, PIPELINES[name], work, env)
            print(f"== evaluating {name}", flush=True)
            result.update(evaluate_in_child(result["model"], args.holdout, work / f"{name}.json", env))
            result["summary"] = summarize(result["rows"])
            result["written_vs_folded"] = written_vs_folded(result["rows"], result.pop("folded_rows"))
            add_issue14_figures(result, args.scam_holdout, work, name, env)
            results[name] = result
    sweep = threshold_sweep(results[next(iter(results))]["rows"])
    print_report(results, sweep)
    print_issue14_report(results)
    print_written_vs_folded(results)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {n: {k: v for k, v in r.items() if k != "model"} for n, r in results.items()}
        payload["threshold_sweep"] = sweep
        args.json.write_text(json.dumps(payload, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
