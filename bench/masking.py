"""Masking rates: how much personal data is masked, how many look-alikes survive.

    .venv/bin/python bench/masking.py [--before /path/to/a/checkout/of/main] [--json var/bench/masking.json]

The corpus is the one of tests/questionlog/test_masking.py (this checkout):
PERSONAL (a message and the personal data in it) and LOOK_ALIKES (dates,
amounts, dossier and bill codes, hotlines ... that must be stored as typed).
For each masker (this checkout's bot/questionlog/masking.py and, with
--before, the one of another checkout, e.g. a git worktree of main) it prints

- personal data masked: the share of PERSONAL cases whose personal data is
  gone from the masked text (its digits too);
- look-alikes kept: the share of LOOK_ALIKES stored exactly as typed;

overall and for the forms added in issue 13 (marked in the corpus).
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Callable, Dict, List, Sequence, Tuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.questionlog import test_masking as corpus  # noqa: E402

ISSUE_13_PERSONAL_FROM = "họ bảo đọc 6 số 482913"  # first case of the issue-13 block
ISSUE_13_LOOK_ALIKES_FROM = "hạn nộp 25 / 11 / 2026"


def load_masker(root: Path, name: str) -> ModuleType:
    path = root / "bot" / "questionlog" / "masking.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def masked_share(mask: Callable[[str], str], cases: Sequence[Tuple[str, str, str]]) -> float:
    done = 0
    for text, secret, _ in cases:
        out = mask(text)
        gone = secret not in out and (not _digits(secret) or _digits(secret) not in _digits(out))
        done += gone
    return done / len(cases) if cases else 0.0


def kept_share(mask: Callable[[str], str], texts: Sequence[str]) -> float:
    return sum(mask(t) == t for t in texts) / len(texts) if texts else 0.0


def split(items: List, first) -> Tuple[List, List]:  # noqa: ANN001
    keys = [item[0] if isinstance(item, tuple) else item for item in items]
    at = keys.index(first) if first in keys else len(items)
    return items[:at], items[at:]


def rates(mask: Callable[[str], str]) -> Dict[str, float]:
    old_personal, new_personal = split(corpus.PERSONAL, ISSUE_13_PERSONAL_FROM)
    old_alikes, new_alikes = split(corpus.LOOK_ALIKES, ISSUE_13_LOOK_ALIKES_FROM)
    return {
        "personal_masked": masked_share(mask, corpus.PERSONAL),
        "look_alikes_kept": kept_share(mask, corpus.LOOK_ALIKES),
        "personal_masked_issue13_forms": masked_share(mask, new_personal),
        "look_alikes_kept_issue13_forms": kept_share(mask, new_alikes),
        "personal_masked_earlier_forms": masked_share(mask, old_personal),
        "look_alikes_kept_earlier_forms": kept_share(mask, old_alikes),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", type=Path, help="another checkout (e.g. a worktree of main) to compare with")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    maskers = {}
    if args.before:
        maskers["before"] = load_masker(args.before.resolve(), "masking_before")
    maskers["after"] = load_masker(ROOT, "masking_after")
    print(f"corpus: {len(corpus.PERSONAL)} messages with personal data, {len(corpus.LOOK_ALIKES)} look-alikes")
    results = {name: rates(module.mask) for name, module in maskers.items()}
    for metric in next(iter(results.values())):
        row = "  ".join(f"{name} {values[metric] * 100:6.1f}%" for name, values in results.items())
        print(f"{metric:34s} {row}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
