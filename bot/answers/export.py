"""`python -m bot answers diff` and `python -m bot answers export`: the published answers and the repo files.

``diff`` lists every answer whose published version differs from the repo
files (exit code 1 when there is any, like diff(1)). ``export`` writes the
published versions into ``domain/*.yml``, ``bot/journeys/journeys.yml`` and
``bot/library/sources.yml`` so that a developer can review and commit them;
only the changed responses, step texts and source lists are replaced, so
the files keep their comments and layout.
"""
from __future__ import annotations

import argparse
import datetime
import difflib
import json
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, TextIO

import yaml

from bot.answers import store

Content = Dict[str, Any]


def as_lines(key: str, content: Content) -> List[str]:
    """Content as lines for a diff: text, then one line per button (every variation)."""
    if store.kind_of(key) == store.RESPONSE:
        lines = []
        for v in content.get("variations") or []:
            label = " ".join(f"[{k}: {json.dumps(v[k], ensure_ascii=False)}]" for k in ("condition", "channel") if v.get(k))
            lines.append((label + " " if label else "") + str(v.get("text") or ""))
            lines += [f"  nút: {b.get('title')} → {b.get('payload')}" for b in v.get("buttons") or []]
        return lines
    if store.kind_of(key) == store.JOURNEY:
        return [str(content.get("text") or "")]
    return [json.dumps(s, ensure_ascii=False, sort_keys=True) for s in content.get("sources") or []]


def differences(published: Dict[str, Content], files: Dict[str, Content]) -> Dict[str, List[str]]:
    """{key: unified diff lines (files -> published)} of every answer that differs."""
    found = {}
    for key in sorted(published):
        if key in files and published[key] != files[key]:
            found[key] = list(difflib.unified_diff(
                as_lines(key, files[key]), as_lines(key, published[key]), "tệp", "đang dùng", lineterm="", n=1
            ))
    return found


def _dated(value: Any) -> Any:
    """ISO dates of stored sources back to YAML dates (`checked: 2026-12-01`)."""
    if isinstance(value, dict):
        return {k: _dated(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_dated(v) for v in value]
    if isinstance(value, str) and len(value) == 10:
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            return value
    return value


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _block_end(lines: List[str], start: int, indent: int) -> int:
    """Index after the block that starts at ``start`` (a key at ``indent``): up to the next
    non-blank line indented ``indent`` or less (a "- " item at ``indent`` is the key's list);
    blank lines at its end stay outside."""
    end = start + 1
    while end < len(lines) and (
        not lines[end].strip() or _indent(lines[end]) > indent
        or (_indent(lines[end]) == indent and lines[end].lstrip().startswith("- "))
    ):
        end += 1
    while end - 1 > start and not lines[end - 1].strip():
        end -= 1
    return end


def _find(lines: List[str], key: str, indent: int, start: int = 0, stop: Optional[int] = None) -> Optional[int]:
    wanted = " " * indent + key + ":"
    for i in range(start, len(lines) if stop is None else stop):
        if lines[i].rstrip() == wanted or lines[i].startswith(wanted + " "):
            return i
    return None


def _dump(value: Dict[str, Any], indent: int, flow: Optional[bool] = False) -> List[str]:
    text = yaml.safe_dump(value, allow_unicode=True, sort_keys=False, width=4096, default_flow_style=flow)
    return [" " * indent + line if line else line for line in text.rstrip("\n").split("\n")]


def _splice(path: Path, edits: List[tuple]) -> bool:
    """Replace blocks of ``path``: edits are (finder(lines) -> (start, end) or None, new lines)."""
    lines = path.read_text(encoding="utf-8").split("\n")
    hit = False
    for finder, replacement in edits:
        found = finder(lines)
        if found is None:
            continue
        start, end = found
        lines[start:end] = replacement
        hit = True
    if hit:
        path.write_text("\n".join(lines), encoding="utf-8")
    return hit


def export(published: Dict[str, Content], root: Path) -> List[Path]:
    """Write the published answers that differ from the files under ``root``; the files changed.

    Only the changed blocks are replaced (a response, a step's text, a topic's
    sources): comments, order and the layout of everything else stay as they are.
    """
    domain_dir = root / "domain"
    journeys_path = root / "bot" / "journeys" / "journeys.yml"
    sources_path = root / "bot" / "library" / "sources.yml"
    files = store.repo_items(domain_dir, journeys_path, sources_path)
    changed = set(differences(published, files))
    written: List[Path] = []

    def response(name: str):
        def finder(lines):
            section = _find(lines, "responses", 0)
            start = _find(lines, name, 2, section or 0) if section is not None else None
            return None if start is None else (start, _block_end(lines, start, 2))
        return finder

    def step_text(journey: str, step: str):
        def finder(lines):
            top = _find(lines, journey, 0)
            if top is None:
                return None
            steps = _find(lines, "steps", 2, top, _block_end(lines, top, 0))
            at = _find(lines, step, 4, steps, _block_end(lines, steps, 2)) if steps is not None else None
            text = _find(lines, "text", 6, at, _block_end(lines, at, 4)) if at is not None else None
            return None if text is None else (text, _block_end(lines, text, 6))
        return finder

    def topic(intent: str):
        def finder(lines):
            section = _find(lines, "topics", 0)
            start = _find(lines, intent, 2, section or 0) if section is not None else None
            return None if start is None else (start, _block_end(lines, start, 2))
        return finder

    for path in sorted(domain_dir.glob("*.yml")):
        names = [store.response_key(n) for n in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("responses") or {}]
        edits = [(response(k.split(":", 1)[1]), _dump({k.split(":", 1)[1]: published[k]["variations"]}, 2))
                 for k in names if k in changed]
        if edits and _splice(path, edits):
            written.append(path)
    edits = []
    for key in sorted(k for k in changed if store.kind_of(k) == store.JOURNEY):
        journey, step = key.split(":", 1)[1].split("/", 1)
        edits.append((step_text(journey, step), _dump({"text": published[key]["text"]}, 6)))
    if edits and _splice(journeys_path, edits):
        written.append(journeys_path)
    edits = []
    for key in sorted(k for k in changed if store.kind_of(k) == store.SOURCE):
        intent = key.split(":", 1)[1]
        items = _dated(published[key]["sources"])
        edits.append((topic(intent), [f"  {intent}:"] + [f"    - {_dump(item, 0, True)[0]}" for item in items]))
    if edits and _splice(sources_path, edits):
        written.append(sources_path)
    return written


def add_arguments(parser: argparse.ArgumentParser) -> None:
    commands = parser.add_subparsers(dest="answers_command", required=True)
    commands.add_parser("diff", help="show the published answers that differ from the repo files (exit 1 if any)")
    exported = commands.add_parser("export", help="write the published answers into the domain, journey and source files")
    exported.add_argument("--root", default=None, help="project folder to write into (default: this checkout)")


def run(args: argparse.Namespace, stdout: Optional[TextIO] = None) -> int:
    from bot.db.engine import session_factory
    from bot.settings import PROJECT_ROOT

    stdout = stdout or sys.stdout
    factory = session_factory()
    store.sync_from_files(factory)
    with factory() as session:
        published = store.published(session)
    if args.answers_command == "diff":
        found = differences(published, store.repo_items())
        for key, lines in found.items():
            print(f"== {key}", file=stdout)
            for line in lines:
                print(line, file=stdout)
        print(f"{len(found)} câu trả lời khác với tệp của kho mã", file=stdout)
        return 1 if found else 0
    root = Path(args.root) if args.root else PROJECT_ROOT
    written = export(published, root)
    for path in written:
        print(f"đã ghi {path}", file=stdout)
    print(f"{len(written)} tệp đã ghi", file=stdout)
    return 0
