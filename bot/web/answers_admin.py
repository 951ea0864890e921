"""Admin "Câu trả lời" pages: find an answer, edit it, review, publish, diff, revert.

- ``GET /admin/answers?q=&topic=``: every answer by topic (the library's
  Vietnamese titles), searched without diacritics; the versions waiting for
  review.
- ``GET /admin/answers/entry/{id}``: the messages (responses, journey steps)
  and sources of one library entry.
- ``GET|POST /admin/answers/edit?key=``: text and buttons with a live chat
  preview and a counter against 220 characters; source, "checked on" date
  and a reason are required. An editor sends it to review; an approver may
  publish at once. Every version is listed with who/when/why, a diff and a
  revert button.
- ``GET|POST /admin/answers/review``: an approver publishes or rejects what
  others proposed (an editor's change needs someone other than its author).
- ``GET /admin/answers/diff?key=&a=&b=``: the lines that differ.

Sessions and CSRF come from bot/web/admin.py's guard; the rules of who may do
what are in bot/answers/store.py (checked there, so no page can skip them).
Everything shown goes through Jinja2 with autoescape.
"""
from __future__ import annotations

import datetime
import difflib
import json
from functools import lru_cache
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import quote

from aiohttp import web

from bot.answers import store
from bot.answers.export import as_lines
from bot.answers.published import library_catalogue
from bot.library.catalogue import ANSWER_RULES, JOURNEY, Entry, answer_rules, parse_payload, reading_order
from bot.nlu.normalizer import fold_diacritics, nfc_lower
from bot.web.admin import SESSIONS_KEY, blocking, render

MAX_CHARS = 220
MAX_BUTTONS = 10
HUMAN_PAYLOAD = "/request_human"


def fold(text: str) -> str:
    return " ".join(fold_diacritics(nfc_lower(text or "")).split())


def actor_of(request: web.Request) -> store.Actor:
    info = request["admin"]
    return store.Actor(info.username, getattr(info, "role", store.APPROVER))


# -- what an entry is made of ---------------------------------------------------------
@lru_cache(maxsize=1)
def _rules() -> Dict[str, Tuple[List[str], bool]]:
    return answer_rules(ANSWER_RULES)


def entry_keys(entry: Entry) -> List[str]:
    """The answer keys of a library entry: its responses or journey steps, then its sources."""
    if entry.kind == JOURNEY:
        from bot.journeys.engine import default_catalogue

        journey = default_catalogue().get(entry.journey)
        return [store.journey_key(entry.journey, step) for step in reading_order(journey)] if journey else []
    names = _rules().get(entry.intent or "", ([], False))[0]
    keys = [store.response_key(n) for n in names if n.startswith("utter_")]
    return keys + [store.source_key(entry.intent)] if entry.intent else keys


def general_index(variations: List[Dict[str, Any]]) -> int:
    """Index of the variation the form edits: the one without condition or channel (else the first)."""
    for i, v in enumerate(variations):
        if isinstance(v, dict) and not v.get("condition") and not v.get("channel"):
            return i
    return 0


def editable(key: str, content: Dict[str, Any]) -> Tuple[str, List[Dict[str, str]]]:
    """(text, buttons) the form shows for the content of ``key``."""
    if store.kind_of(key) == store.JOURNEY:
        return str(content.get("text") or ""), []
    if store.kind_of(key) == store.RESPONSE:
        variations = content.get("variations") or [{}]
        chosen = variations[general_index(variations)] or {}
        return str(chosen.get("text") or ""), list(chosen.get("buttons") or [])
    return "", []


def buttons_text(buttons: List[Dict[str, str]]) -> str:
    return "\n".join(f"{b.get('title', '')} | {b.get('payload', '')}" for b in buttons)


def parse_buttons(raw: str) -> Tuple[List[Dict[str, str]], Optional[str]]:
    """Lines "title | /payload" -> buttons, or an error text."""
    buttons = []
    for number, line in enumerate((raw or "").splitlines(), start=1):
        if not line.strip():
            continue
        title, sep, payload = line.partition("|")
        title, payload = title.strip(), payload.strip()
        if not sep or not title or not payload:
            return [], f"Dòng nút {number}: viết «Tên nút | /lệnh»."
        if len(title) > 64:
            return [], f"Dòng nút {number}: tên nút dài quá 64 ký tự."
        if parse_payload(payload)[0] is None:
            return [], f"Dòng nút {number}: lệnh phải có dạng /ten_y_dinh hoặc /ten_y_dinh{{...}}."
        buttons.append({"title": title, "payload": payload})
    if len(buttons) > MAX_BUTTONS:
        return [], f"Nhiều nhất {MAX_BUTTONS} nút."
    return buttons, None


def new_content(key: str, current: Dict[str, Any], text: str, buttons: List[Dict[str, str]]) -> Dict[str, Any]:
    if store.kind_of(key) == store.JOURNEY:
        return {"text": text}
    variations = json.loads(json.dumps(current.get("variations") or [{}]))
    i = general_index(variations)
    chosen = dict(variations[i] or {})
    chosen["text"] = text
    if buttons:
        chosen["buttons"] = buttons
    else:
        chosen.pop("buttons", None)
    variations[i] = chosen
    return {"variations": variations}


def diff_rows(key: str, old: Dict[str, Any], new: Dict[str, Any]) -> List[Tuple[str, str]]:
    """[(kind, line)]: kind "same", "removed" or "added"."""
    rows = []
    for line in difflib.ndiff(as_lines(key, old), as_lines(key, new)):
        tag, text = line[:2], line[2:]
        if tag == "  ":
            rows.append(("same", text))
        elif tag == "- ":
            rows.append(("removed", text))
        elif tag == "+ ":
            rows.append(("added", text))
    return rows


def key_title(key: str) -> str:
    """A Vietnamese label of a key: the library entry's title and which message it is."""
    library = library_catalogue()
    for entry in library.entries:
        keys = entry_keys(entry)
        if key in keys:
            if store.kind_of(key) == store.SOURCE:
                return f"{entry.title} — nguồn"
            position = [k for k in keys if store.kind_of(k) != store.SOURCE].index(key) + 1
            label = "bước" if entry.kind == JOURNEY else "tin"
            return f"{entry.title} — {label} {position}"
    return key


# -- pages -------------------------------------------------------------------------------------
async def list_page(request: web.Request) -> web.Response:
    library = await blocking(library_catalogue)
    query = (request.query.get("q") or "").strip()[:200]
    topic = request.query.get("topic") or None
    folded = fold(query)
    entries = [
        e for e in library.entries
        if (topic is None or e.topic == topic)
        and (not folded or all(word in fold(" ".join([e.title, e.text, *e.keywords])) for word in folded.split()))
    ]
    groups = [(t, [e for e in entries if e.topic == t.key]) for t in library.topics]
    sessions = request.app[SESSIONS_KEY]

    def load(session):
        return [(v, a, key_title(a.key)) for v, a in store.pending(session)]

    pending = await blocking(lambda: _with_session(sessions, load))
    return render(request, "admin/answers.html", groups=[g for g in groups if g[1]], search=query, topic=topic,
                  topics=library.topics, pending=pending)


def _with_session(sessions, function):
    with sessions() as session:
        return function(session)


async def entry_page(request: web.Request) -> web.Response:
    library = await blocking(library_catalogue)
    entry = library.get(request.match_info["entry"])
    if entry is None:
        raise web.HTTPNotFound(text="Không có câu trả lời này.")
    keys = entry_keys(entry)
    sessions = request.app[SESSIONS_KEY]

    def load(session):
        current = store.published(session)
        return [(k, editable(k, current.get(k) or {}), current.get(k) or {}) for k in keys]

    items = await blocking(lambda: _with_session(sessions, load))
    return render(request, "admin/answer_entry.html", entry=entry, topic_label=library.topic_label(entry.topic),
                  items=items, store=store, max_chars=MAX_CHARS)


async def edit_page(request: web.Request) -> web.Response:
    key = request.query.get("key") or ""
    sessions = request.app[SESSIONS_KEY]
    actor = actor_of(request)
    error, notice, form_values = None, None, {}

    def load(session):
        answer = store.answer_by_key(session, key)
        if answer is None:
            return None
        current = store.published_version(session, answer)
        return answer, current, store.versions(session, answer.id)

    found = await blocking(lambda: _with_session(sessions, load))
    if found is None or store.kind_of(key) not in (store.RESPONSE, store.JOURNEY):
        raise web.HTTPNotFound(text="Không có câu trả lời này (nguồn được sửa cùng câu trả lời).")
    answer, current, history = found
    content = current.content if current else answer.seed

    if request.method == "POST":
        form = await request.post()
        form_values = {k: str(form.get(k) or "") for k in ("text", "buttons", "source", "checked_on", "reason")}
        text = " ".join(form_values["text"].split()) if store.kind_of(key) == store.JOURNEY else form_values["text"].strip()
        buttons, error = parse_buttons(form_values["buttons"]) if store.kind_of(key) == store.RESPONSE else ([], None)
        checked_on = None
        try:
            checked_on = datetime.date.fromisoformat(form_values["checked_on"]) if form_values["checked_on"] else None
        except ValueError:
            error = error or "Ngày kiểm tra không hợp lệ."
        if not error and not text:
            error = "Nội dung không được để trống."
        if not error and len(text) > MAX_CHARS:
            error = f"Tin nhắn dài {len(text)} ký tự, quá {MAX_CHARS} ký tự."
        had_human = any(b.get("payload") == HUMAN_PAYLOAD for b in editable(key, content)[1])
        if not error and had_human and not any(b["payload"] == HUMAN_PAYLOAD for b in buttons):
            error = "Câu trả lời phải giữ nút «👤 Gặp người hỗ trợ» (/request_human)."
        publish = form.get("action") == "publish"
        if not error and publish and actor.role != store.APPROVER:
            raise web.HTTPForbidden(text="Người biên tập không tự đăng được: cần một người duyệt khác.")
        if not error:
            try:
                await blocking(store.propose, sessions, key, new_content(key, content, text, buttons), actor,
                               form_values["reason"], form_values["source"], checked_on, publish)
            except store.NotAllowed as refused:
                raise web.HTTPForbidden(text=str(refused))
            except store.AnswerError as refused:
                error = str(refused)
            else:
                raise web.HTTPSeeOther(f"/admin/answers/edit?key={quote(key, safe='')}&done={'published' if publish else 'review'}")

    done = request.query.get("done")
    if done == "published":
        notice = "Đã đăng: người dân nhận nội dung mới trong vài giây."
    elif done == "review":
        notice = "Đã gửi duyệt: cần một người duyệt khác đăng."
    elif done == "reverted":
        notice = "Đã quay lại phiên bản cũ."
    text, buttons = editable(key, content)
    return render(
        request, "admin/answer_edit.html", status=400 if error else 200, key=key, title=key_title(key),
        kind=store.kind_of(key), text=form_values.get("text", text),
        buttons=form_values.get("buttons", buttons_text(buttons)),
        source=form_values.get("source", (current.source if current else "") or ""),
        checked_on=form_values.get("checked_on", datetime.date.today().isoformat()),
        reason=form_values.get("reason", ""), history=history, current=current, error=error, notice=notice,
        actor=actor, max_chars=MAX_CHARS, APPROVER=store.APPROVER, store=store,
    )


async def review_page(request: web.Request) -> web.Response:
    sessions = request.app[SESSIONS_KEY]
    actor = actor_of(request)
    error, status = None, 200
    if request.method == "POST":
        form = await request.post()
        if actor.role != store.APPROVER:
            raise web.HTTPForbidden(text="Chỉ người duyệt mới đăng hoặc từ chối được.")
        try:
            version_id = int(str(form.get("version") or ""))
        except ValueError:
            version_id = 0
        status = 400
        try:
            if form.get("action") == "approve":
                await blocking(store.approve, sessions, version_id, actor)
            elif form.get("action") == "reject":
                await blocking(store.reject, sessions, version_id, actor)
            else:
                error = "Không rõ thao tác."
        except store.AnswerError as refused:
            error = str(refused)
            status = 403 if isinstance(refused, store.NotAllowed) else 400
        if not error:
            raise web.HTTPSeeOther("/admin/answers/review?done=1")

    def load(session):
        current = store.published(session)
        return [
            (v, a, key_title(a.key), diff_rows(a.key, current.get(a.key) or {}, v.content))
            for v, a in store.pending(session)
        ]

    pending = await blocking(lambda: _with_session(sessions, load))
    return render(request, "admin/answer_review.html", status=status,
                  pending=pending, error=error, actor=actor, APPROVER=store.APPROVER,
                  notice="Đã xử lý." if request.query.get("done") else None)


async def diff_page(request: web.Request) -> web.Response:
    key = request.query.get("key") or ""
    sessions = request.app[SESSIONS_KEY]
    try:
        a, b = int(request.query.get("a", "0")), int(request.query.get("b", "0"))
    except ValueError:
        raise web.HTTPBadRequest(text="Số phiên bản không hợp lệ.")

    def load(session):
        answer = store.answer_by_key(session, key)
        if answer is None:
            return None
        by_number = {v.number: v for v in store.versions(session, answer.id)}
        return by_number.get(a), by_number.get(b)

    found = await blocking(lambda: _with_session(sessions, load))
    if not found or None in found:
        raise web.HTTPNotFound(text="Không có phiên bản này.")
    old, new = found
    return render(request, "admin/answer_diff.html", key=key, title=key_title(key), old=old, new=new,
                  rows=diff_rows(key, old.content, new.content))


async def revert_action(request: web.Request) -> web.Response:
    form = await request.post()
    key = str(form.get("key") or "")
    try:
        number = int(str(form.get("number") or ""))
    except ValueError:
        raise web.HTTPBadRequest(text="Số phiên bản không hợp lệ.")
    try:
        await blocking(store.revert, request.app[SESSIONS_KEY], key, number, actor_of(request))
    except store.AnswerError as refused:
        raise web.HTTPBadRequest(text=str(refused))
    done = "reverted" if actor_of(request).role == store.APPROVER else "review"
    raise web.HTTPSeeOther(f"/admin/answers/edit?key={quote(key, safe='')}&done={done}")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/admin/answers", list_page)
    app.router.add_get("/admin/answers/entry/{entry}", entry_page)
    app.router.add_route("*", "/admin/answers/edit", edit_page)
    app.router.add_route("*", "/admin/answers/review", review_page)
    app.router.add_get("/admin/answers/diff", diff_page)
    app.router.add_post("/admin/answers/revert", revert_action)
