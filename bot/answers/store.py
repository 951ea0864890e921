"""Answers in the database: seeded from the repo files, versioned, reviewed, published.

Three kinds of answer, each keyed by a string:

- ``response:<utter_name>``: a domain response, content ``{"variations": [...]}``
  exactly as in ``domain/*.yml`` (text, buttons, condition, channel), so the
  Rasa NLG keeps every templated behaviour;
- ``journey:<journey>/<step>``: a journey step, content ``{"text": ...}``;
- ``source:<intent>``: the sources of a topic's facts, content
  ``{"sources": [...]}`` as in ``bot/library/sources.yml`` (dates as ISO text).

The files stay the source of a fresh install and of the tests:
:func:`sync_from_files` (run by every process on its first read) creates the
answers that are missing with a first published version by ``repo``, and when
a file changed since the last start publishes the new file content, unless an
admin published their own version since (that one stays; ``answers diff`` shows
the difference).

Roles: an ``editor`` proposes (the version goes to review), an ``approver``
publishes; an editor's version needs an approver who is not its author.
Every publish raises the one counter in ``answer_revision``, which every
process polls (bot/answers/live.py) to refresh its cache.
"""
from __future__ import annotations

import copy
import datetime
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

import yaml
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.db.models import Answer, AnswerRevision, AnswerVersion, utcnow
from bot.settings import PROJECT_ROOT

log = logging.getLogger(__name__)

RESPONSE, JOURNEY, SOURCE = "response", "journey", "source"
DRAFT, REVIEW, PUBLISHED, ARCHIVED, REJECTED = "draft", "review", "published", "archived", "rejected"
EDITOR, APPROVER = "editor", "approver"
ROLES = (EDITOR, APPROVER)
REPO_AUTHOR = "repo"

DOMAIN_DIR = PROJECT_ROOT / "domain"
JOURNEYS_PATH = PROJECT_ROOT / "bot" / "journeys" / "journeys.yml"
SOURCES_PATH = PROJECT_ROOT / "bot" / "library" / "sources.yml"

Content = Dict[str, Any]


class AnswerError(ValueError):
    """A change that the rules do not allow (the message is shown to the admin, in Vietnamese)."""


class NotAllowed(AnswerError):
    """The admin's role does not allow this (an editor publishing, approving their own change)."""


def response_key(name: str) -> str:
    return f"{RESPONSE}:{name}"


def journey_key(journey: str, step: str) -> str:
    return f"{JOURNEY}:{journey}/{step}"


def source_key(intent: str) -> str:
    return f"{SOURCE}:{intent}"


def kind_of(key: str) -> str:
    return key.split(":", 1)[0]


# -- the repo files --------------------------------------------------------------
def _yaml(path: Path) -> Dict[str, Any]:
    return yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}


def _plain(value: Any) -> Any:
    """YAML values as JSON can store them (dates as ISO text)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    return value


def repo_items(
    domain_dir: Path = DOMAIN_DIR, journeys_path: Path = JOURNEYS_PATH, sources_path: Path = SOURCES_PATH
) -> Dict[str, Content]:
    """{key: content} of every answer in the repo files."""
    items: Dict[str, Content] = {}
    for path in sorted(Path(domain_dir).glob("*.yml")):
        for name, variations in (_yaml(path).get("responses") or {}).items():
            items[response_key(str(name))] = {"variations": _plain(list(variations or []))}
    for journey_id, spec in _yaml(journeys_path).items():
        for step_id, step in ((spec or {}).get("steps") or {}).items():
            items[journey_key(str(journey_id), str(step_id))] = {"text": str(step["text"])}
    for intent, sources in (_yaml(sources_path).get("topics") or {}).items():
        items[source_key(str(intent))] = {"sources": _plain(list(sources or []))}
    return items


# -- reading -----------------------------------------------------------------------
def current_revision(session: Session) -> int:
    value = session.execute(select(AnswerRevision.revision).where(AnswerRevision.id == 1)).scalar()
    return int(value or 0)


def published(session: Session) -> Dict[str, Content]:
    """{key: published content} of every answer."""
    rows = session.execute(
        select(Answer.key, AnswerVersion.content).join(AnswerVersion, AnswerVersion.id == Answer.published_version_id)
    )
    return {key: content for key, content in rows}


def answer_by_key(session: Session, key: str) -> Optional[Answer]:
    return session.execute(select(Answer).where(Answer.key == key)).scalar_one_or_none()


def versions(session: Session, answer_id: int) -> List[AnswerVersion]:
    """Every version of an answer, newest first."""
    return list(session.execute(
        select(AnswerVersion).where(AnswerVersion.answer_id == answer_id).order_by(AnswerVersion.number.desc())
    ).scalars())


def published_version(session: Session, answer: Answer) -> Optional[AnswerVersion]:
    return session.get(AnswerVersion, answer.published_version_id) if answer.published_version_id else None


# -- writing ---------------------------------------------------------------------------
_listeners: List[Callable[[], None]] = []


def on_publish(listener: Callable[[], None]) -> None:
    """Call ``listener`` after every publish made by this process (caches drop at once)."""
    _listeners.append(listener)


def _bump(session: Session) -> None:
    updated = session.execute(
        update(AnswerRevision).where(AnswerRevision.id == 1)
        .values(revision=AnswerRevision.revision + 1, updated_at=utcnow())
    ).rowcount
    if not updated:
        session.add(AnswerRevision(id=1, revision=1))


def _notify() -> None:
    for listener in list(_listeners):
        listener()


def _next_number(session: Session, answer_id: int) -> int:
    numbers = session.execute(select(AnswerVersion.number).where(AnswerVersion.answer_id == answer_id)).scalars()
    return max(numbers, default=0) + 1


def _publish(session: Session, answer: Answer, version: AnswerVersion, by: str) -> None:
    now = utcnow()
    old = published_version(session, answer)
    if old is not None and old.id != version.id:
        old.status = ARCHIVED
    version.status = PUBLISHED
    version.reviewed_by = by
    version.reviewed_at = now
    version.published_at = now
    session.flush()
    answer.published_version_id = version.id
    _bump(session)


def sync_from_files(factory: sessionmaker, items: Optional[Dict[str, Content]] = None) -> int:
    """Seed missing answers and publish changed repo content (see the module); returns the publishes.

    Safe to run from several processes at once: a loser of the race on a new
    key retries once and then finds the winner's rows.
    """
    items = repo_items() if items is None else items
    for attempt in (1, 2):
        try:
            return _sync(factory, items)
        except IntegrityError:
            if attempt == 2:
                raise
    return 0


def _sync(factory: sessionmaker, items: Dict[str, Content]) -> int:
    changes = 0
    with factory() as session, session.begin():
        existing = {a.key: a for a in session.execute(select(Answer)).scalars()}
        for key, content in items.items():
            answer = existing.get(key)
            if answer is None:
                answer = Answer(key=key, kind=kind_of(key), seed=content)
                session.add(answer)
                session.flush()
                version = AnswerVersion(
                    answer_id=answer.id, number=1, content=content, status=REVIEW,
                    author=REPO_AUTHOR, reason="Nội dung ban đầu từ tệp của kho mã",
                )
                session.add(version)
                session.flush()
                _publish(session, answer, version, REPO_AUTHOR)
                changes += 1
            elif answer.seed != content:
                current = published_version(session, answer)
                untouched = current is None or (current.author == REPO_AUTHOR and current.content == answer.seed)
                answer.seed = content
                if untouched:
                    version = AnswerVersion(
                        answer_id=answer.id, number=_next_number(session, answer.id), content=content,
                        status=REVIEW, author=REPO_AUTHOR, reason="Tệp của kho mã đã thay đổi",
                    )
                    session.add(version)
                    session.flush()
                    _publish(session, answer, version, REPO_AUTHOR)
                    changes += 1
    if changes:
        _notify()
    return changes


@dataclass(frozen=True)
class Actor:
    username: str
    role: str


def propose(
    factory: sessionmaker, key: str, content: Content, actor: Actor, reason: str,
    source: Optional[str], checked_on: Optional[datetime.date], publish: bool = False,
) -> AnswerVersion:
    """A new version of ``key`` in review; published at once when ``publish`` and the actor is an approver."""
    if actor.role not in ROLES:
        raise NotAllowed("Tài khoản chưa được phân quyền sửa câu trả lời.")
    if publish and actor.role != APPROVER:
        raise NotAllowed("Người biên tập không tự đăng được: cần một người duyệt khác.")
    if not (reason or "").strip():
        raise AnswerError("Cần ghi lý do sửa.")
    if not (source or "").strip() or checked_on is None:
        raise AnswerError("Cần ghi nguồn và ngày kiểm tra nguồn.")
    with factory() as session, session.begin():
        answer = answer_by_key(session, key)
        if answer is None:
            raise AnswerError("Không tìm thấy câu trả lời này.")
        version = AnswerVersion(
            answer_id=answer.id, number=_next_number(session, answer.id), content=copy.deepcopy(content),
            status=REVIEW, author=actor.username, reason=reason.strip(), source=source.strip(), checked_on=checked_on,
        )
        session.add(version)
        session.flush()
        if publish:
            _publish(session, answer, version, actor.username)
    if publish:
        _notify()
    return version


def approve(factory: sessionmaker, version_id: int, actor: Actor) -> AnswerVersion:
    """Publish a version in review: only an approver, and not the author of an editor's version."""
    if actor.role != APPROVER:
        raise NotAllowed("Chỉ người duyệt mới đăng được câu trả lời.")
    with factory() as session, session.begin():
        version = _in_review(session, version_id)
        if version.author == actor.username and not _was_approver(session, version):
            raise NotAllowed("Thay đổi của người biên tập cần một người khác duyệt.")
        answer = session.get(Answer, version.answer_id)
        _publish(session, answer, version, actor.username)
    _notify()
    return version


def _in_review(session: Session, version_id: int) -> AnswerVersion:
    version = session.get(AnswerVersion, version_id)
    if version is None or version.status != REVIEW:
        raise AnswerError("Phiên bản này không còn chờ duyệt.")
    return version


def _was_approver(session: Session, version: AnswerVersion) -> bool:
    """Whether the version's author is an approver (their own change needs no second person)."""
    from bot.db.models import AdminUser

    role = session.execute(select(AdminUser.role).where(AdminUser.username == version.author)).scalar()
    return role == APPROVER


def reject(factory: sessionmaker, version_id: int, actor: Actor) -> AnswerVersion:
    if actor.role != APPROVER:
        raise NotAllowed("Chỉ người duyệt mới từ chối được.")
    with factory() as session, session.begin():
        version = _in_review(session, version_id)
        version.status = REJECTED
        version.reviewed_by = actor.username
        version.reviewed_at = utcnow()
    return version


def revert(factory: sessionmaker, key: str, number: int, actor: Actor) -> AnswerVersion:
    """Bring version ``number`` back: a new version with its content, published at once by an approver."""
    with factory() as session:
        answer = answer_by_key(session, key)
        if answer is None:
            raise AnswerError("Không tìm thấy câu trả lời này.")
        old = session.execute(
            select(AnswerVersion).where(AnswerVersion.answer_id == answer.id, AnswerVersion.number == number)
        ).scalar_one_or_none()
        if old is None:
            raise AnswerError("Không có phiên bản này.")
        content, source, checked_on = old.content, old.source or "", old.checked_on
    return propose(
        factory, key, content, actor, f"Quay lại phiên bản {number}",
        source or "Phiên bản cũ", checked_on or datetime.date.today(), publish=actor.role == APPROVER,
    )


def pending(session: Session) -> List[Tuple[AnswerVersion, Answer]]:
    """Versions waiting for an approver, oldest first."""
    rows = session.execute(
        select(AnswerVersion, Answer).join(Answer, Answer.id == AnswerVersion.answer_id)
        .where(AnswerVersion.status == REVIEW).order_by(AnswerVersion.created_at)
    )
    return [(v, a) for v, a in rows]
