"""The admin dashboard at /admin: login, overview, charts, top questions,
unanswered inbox (clusters -> topics -> NLU YAML) and the CSV export.

Views only: the numbers come from bot/analytics/queries.py, the clusters from
bot/analytics/clustering.py, accounts and sessions from bot/web/auth.py.
Database work runs in a worker thread so a slow query never blocks the chat.
"""
from __future__ import annotations

import asyncio
import csv
import io
import logging
import re
import os
import secrets
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timedelta, timezone
from functools import partial
from pathlib import Path
from typing import Any, Callable, List, Optional

import jinja2
from aiohttp import web
from babel.dates import format_timedelta
from sqlalchemy.orm import sessionmaker

from bot.web.limits import LIMITS_KEY
from bot.csv_safety import spreadsheet_safe
from bot.analytics import charts, queries
from bot.analytics.clustering import cluster_messages, nlu_yaml
from bot.analytics.topics import SMALL_TALK, answer_page, known_intents, title_of
from bot.directory import Directory
from bot.directory.store import load_teams
from bot.web import auth
from bot.web.i18n import DEFAULT_LANGUAGE, Formatter, pick_language, translations

logger = logging.getLogger(__name__)

TEMPLATES = Path(__file__).with_name("templates")
SESSIONS_KEY = web.AppKey("db_sessions", sessionmaker)
LOGIN_SECRET_KEY = web.AppKey("login_secret", bytes)
LOGIN_NONCE_COOKIE = auth.LOGIN_NONCE_COOKIE
LANGUAGE_COOKIE = "tls_lang"
DEFAULT_DAYS = 30
INBOX_SIZE = 1000  # newest unreviewed messages clustered per page view (clustering is O(n^2))
MAX_DAYS = 366
TOPIC_NAME = re.compile(r"^[a-z][a-z0-9_]{2,63}$")
PUBLIC_PATHS = {"/admin/login"}

environment = jinja2.Environment(
    loader=jinja2.FileSystemLoader(str(TEMPLATES)),
    autoescape=True,
    extensions=["jinja2.ext.i18n"],
    trim_blocks=True,
    lstrip_blocks=True,
)


# -- helpers -------------------------------------------------------------------
def language_of(request: web.Request) -> str:
    return pick_language(request.query.get("lang") or request.cookies.get(LANGUAGE_COOKIE, DEFAULT_LANGUAGE))


def format_duration(seconds: Optional[float], language: str) -> str:
    """A waiting time in its two largest units, by Babel: "4 phút 30 giây", "1 hr 5 min"; "–" for none."""
    if seconds is None:
        return "–"
    whole = max(0, int(round(seconds)))
    sizes = (86400, 3600, 60, 1)  # day, hour, minute, second
    first = next(i for i, size in enumerate(sizes) if whole >= size or size == 1)
    parts = [whole // sizes[first] * sizes[first]]
    if first + 1 < len(sizes) and whole % sizes[first] >= sizes[first + 1]:
        parts.append(whole % sizes[first] // sizes[first + 1] * sizes[first + 1])
    return " ".join(format_timedelta(timedelta(seconds=part), threshold=1, format="short", locale=language) for part in parts)


def render(request: web.Request, name: str, status: int = 200, **context: Any) -> web.Response:
    language = language_of(request)
    formatter = Formatter(language)
    environment.install_gettext_translations(translations(language), newstyle=True)
    environment.filters.update(formatter.filters())
    environment.filters["duration"] = partial(format_duration, language=language)
    html = environment.get_template(name).render(
        language=language, session=request.get("admin"), path=request.path, query=request.query, **context
    )
    response = web.Response(text=html, status=status, content_type="text/html", charset="utf-8")
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:"
    if "lang" in request.query:
        response.set_cookie(LANGUAGE_COOKIE, language, path="/admin", samesite="Strict", httponly=True, max_age=31536000)
    return response


def gettext_for(request: web.Request) -> Callable[[str], str]:
    return translations(language_of(request)).gettext


# scrypt (128 MiB, a few hundred ms) runs here, two at a time at most: a login
# flood waits its turn instead of taking the threads the web chat needs.
PASSWORD_EXECUTOR = ThreadPoolExecutor(max_workers=2, thread_name_prefix="scrypt")


async def hashing(function: Callable, *args: Any) -> Any:
    return await asyncio.get_running_loop().run_in_executor(PASSWORD_EXECUTOR, partial(function, *args))


async def blocking(function: Callable, *args: Any) -> Any:
    """Run blocking work (database, scrypt, clustering) off the event loop."""
    return await asyncio.get_running_loop().run_in_executor(None, partial(function, *args))


async def in_thread(request: web.Request, function: Callable, *args: Any) -> Any:
    """Run a query off the event loop with its own database session: function(session, *args)."""
    sessions = request.app[SESSIONS_KEY]

    def work():
        with sessions() as session:
            return function(session, *args)

    return await blocking(work)


def period_of(request: web.Request) -> tuple:
    """The period and channel asked for (?from=YYYY-MM-DD&to=...&channel=...), and an error text."""
    today = datetime.now(timezone.utc).astimezone(queries.VIETNAM).date()
    error = None
    try:
        last = date.fromisoformat(request.query["to"]) if request.query.get("to") else today
        first = date.fromisoformat(request.query["from"]) if request.query.get("from") else last - timedelta(days=DEFAULT_DAYS - 1)
        if first > last or (last - first).days >= MAX_DAYS:
            raise ValueError
    except ValueError:
        _ = gettext_for(request)
        error = _("The dates were not valid; showing the last 30 days.")
        first, last = today - timedelta(days=DEFAULT_DAYS - 1), today
    channel = request.query.get("channel") or None
    if channel is not None and not re.fullmatch(r"[a-z_]{1,32}", channel):
        channel = None
    return queries.Period.for_dates(first, last, channel), first, last, error


# -- access control --------------------------------------------------------------
@web.middleware
async def admin_guard(request: web.Request, handler):
    """Everything under /admin needs a session; every form post needs its CSRF token."""
    if not request.path.startswith("/admin") or request.path in PUBLIC_PATHS:
        return await handler(request)
    token = request.cookies.get(auth.SESSION_COOKIE, "")
    info = await blocking(auth.AdminSessions(request.app[SESSIONS_KEY]).lookup, token) if token else None
    if info is None:
        if request.method == "GET":
            raise web.HTTPFound("/admin/login")
        raise web.HTTPForbidden(text="login required")
    if request.method == "POST":
        form = await request.post()
        if not auth.check_csrf(info, form.get("csrf")):
            raise web.HTTPForbidden(text="CSRF token missing or wrong")
    request["admin"] = info
    return await handler(request)


def secure_cookies(request: web.Request) -> bool:
    """`Secure` cookies over HTTPS: direct, behind a proxy of FORWARDED_ALLOW_IPS that says
    X-Forwarded-Proto: https, or always with ADMIN_SECURE_COOKIES=true."""
    forced = os.environ.get("ADMIN_SECURE_COOKIES", "").strip().lower() in {"1", "true", "yes", "on"}
    return forced or request.app[LIMITS_KEY].behind_tls(request)


async def login_page(request: web.Request) -> web.Response:
    if request.method == "POST":
        return await login_submit(request)
    return login_form(request)


def login_form(request: web.Request, error: Optional[str] = None, status: int = 200) -> web.Response:
    nonce = secrets.token_urlsafe(24)
    response = render(request, "admin/login.html", status=status, error=error,
                      csrf=auth.login_csrf_token(request.app[LOGIN_SECRET_KEY], nonce))
    response.set_cookie(LOGIN_NONCE_COOKIE, nonce, path="/admin/login", httponly=True, samesite="Strict", max_age=3600,
                        secure=secure_cookies(request))
    return response


async def login_submit(request: web.Request) -> web.Response:
    _ = gettext_for(request)
    form = await request.post()
    nonce = request.cookies.get(LOGIN_NONCE_COOKIE, "")
    if not nonce or not auth.verify_login_csrf(request.app[LOGIN_SECRET_KEY], nonce, str(form.get("csrf", ""))):
        return login_form(request, _("The form expired. Please try again."), status=403)
    username, password = str(form.get("username", "")), str(form.get("password", ""))
    sessions = request.app[SESSIONS_KEY]
    limits = request.app[LIMITS_KEY]
    address = limits.client_address(request)
    if limits.login_failures.blocked(address):
        return login_form(request, _("Too many failed attempts from this address. Please wait 15 minutes."), status=429)
    clean = not limits.login_failures.seen(address)
    result = await hashing(auth.AdminAccounts(sessions).authenticate, username, password, None, clean)
    if not result.ok:
        limits.login_failures.hit(address)
        if result.reason == "locked":
            message = _("Too many failed attempts. This account is locked for 15 minutes.")
        else:
            message = _("Wrong username or password.")
        return login_form(request, message, status=401)
    token, _csrf = await blocking(auth.AdminSessions(sessions).start, result.user_id)
    response = web.HTTPFound("/admin")
    response.set_cookie(auth.SESSION_COOKIE, token, **auth.cookie_kwargs(secure_cookies(request)))
    response.del_cookie(LOGIN_NONCE_COOKIE, path="/admin/login")
    raise response


async def logout(request: web.Request) -> web.Response:
    token = request.cookies.get(auth.SESSION_COOKIE, "")
    await blocking(auth.AdminSessions(request.app[SESSIONS_KEY]).end, token)
    response = web.HTTPFound("/admin/login")
    response.del_cookie(auth.SESSION_COOKIE, path="/admin")
    raise response


# -- pages ---------------------------------------------------------------------------
async def overview_page(request: web.Request) -> web.Response:
    period, first, last, error = period_of(request)

    summary, handoffs, channels = await in_thread(
        request, lambda s: (queries.overview(s, period), queries.handoff_summary(s, period), queries.channels(s)))
    fmt = Formatter(language_of(request))
    _ = gettext_for(request)
    hour_chart = charts.bar_chart([(f"{h:02d}:00", n) for h, n in enumerate(summary.hourly)], _("Messages by hour of day"), fmt.number)
    teams = await blocking(load_teams, request.app[SESSIONS_KEY])
    # Residents are never shown the shipped sample rows ([MẪU]): until a real directory is
    # imported they are sent to their commune People's Committee, and this page says so.
    no_real_directory = not Directory(teams).for_residents().teams
    return render(request, "admin/overview.html", summary=summary, handoffs=handoffs, hour_chart=hour_chart,
                  channels=channels, first=first, last=last, error=error, no_real_directory=no_real_directory)


async def charts_page(request: web.Request) -> web.Response:
    period, first, last, error = period_of(request)

    def load(session):
        return (queries.messages_per_day(session, period), queries.top_topics(session, period, 20, SMALL_TALK),
                queries.fallback_rate_per_day(session, period), queries.channels(session),
                queries.top_topics(session, period, len(SMALL_TALK), only=SMALL_TALK))

    per_day, topics, fallback, channels, small_talk = await in_thread(request, load)
    fmt = Formatter(language_of(request))
    _ = gettext_for(request)
    days = list(per_day)
    names = sorted({c for counts in per_day.values() for c in counts})
    series = {name: [per_day[d].get(name, 0) for d in days] for name in names}
    return render(
        request, "admin/charts.html", first=first, last=last, error=error, channels=channels,
        per_day=charts.stacked_columns(days, series, _("Messages per day by channel"), fmt.number, fmt.day),
        topics=charts.bar_chart([(title_of(i), n) for i, n in topics], _("Top 20 topics"), fmt.number),
        topic_rows=[(title_of(i), n, answer_page(i)) for i, n in topics],
        small_talk=[(title_of(i), n) for i, n in small_talk],
        fallback=charts.line_chart([(d, f / n) for d, n, f in fallback if n], _("Fallback rate per day"), fmt.percent, fmt.day),
    )


async def questions_page(request: web.Request) -> web.Response:
    period, first, last, error = period_of(request)
    rows = await in_thread(request, lambda s: (
        queries.top_questions(s, period, leave_out=SMALL_TALK), queries.channels(s),
        queries.top_topics(s, period, len(SMALL_TALK), only=SMALL_TALK)))
    topics = [(title_of(i), n, examples, answer_page(i)) for i, n, examples in rows[0]]
    small_talk = [(title_of(i), n) for i, n in rows[2]]
    return render(request, "admin/questions.html", topics=topics, small_talk=small_talk, channels=rows[1],
                  first=first, last=last, error=error)


async def inbox_page(request: web.Request) -> web.Response:
    period, first, last, error = period_of(request)
    if request.method == "POST":
        error = await inbox_action(request) or error
    items, channels = await in_thread(request, lambda s: (queries.unanswered(s, period, INBOX_SIZE), queries.channels(s)))
    clusters = await blocking(cluster_messages, items)
    assigned = await in_thread(request, queries.assigned_examples)
    return render(request, "admin/inbox.html", clusters=clusters, intents=known_intents(), channels=channels,
                  assigned=sum(len(v) for v in assigned.values()), first=first, last=last, error=error,
                  done=request.query.get("done"))


async def inbox_action(request: web.Request) -> Optional[str]:
    """Assign / new topic / ignore a cluster; an error text, or a redirect on success."""
    _ = gettext_for(request)
    form = await request.post()
    try:
        ids = [int(i) for i in str(form.get("ids", "")).split(",") if i.strip()]
    except ValueError:
        ids = []
    action = form.get("action")
    if not ids:
        return _("Nothing was selected.")
    if action == "assign":
        intent, status = str(form.get("intent", "")), "assigned"
        if intent not in known_intents():
            return _("Choose one of the existing topics.")
    elif action == "new_topic":
        intent, status = str(form.get("new_topic", "")).strip().lower(), "new_topic"
        if not TOPIC_NAME.match(intent):
            return _("A new topic name uses a-z, digits and _ (for example ask_health_insurance).")
    elif action == "ignore":
        intent, status = None, "ignored"
    else:
        return _("Unknown action.")
    changed = await in_thread(request, lambda s: queries.review(s, ids, status, intent))
    raise web.HTTPSeeOther(f"/admin/inbox?{request.query_string}&done={changed}" if request.query_string else f"/admin/inbox?done={changed}")


async def inbox_yaml(request: web.Request) -> web.Response:
    assigned = await in_thread(request, queries.assigned_examples)
    return web.Response(
        text=nlu_yaml(assigned), content_type="application/x-yaml", charset="utf-8",
        headers={"Content-Disposition": 'attachment; filename="nlu_from_inbox.yml"', "Cache-Control": "no-store"},
    )


async def questions_csv(request: web.Request) -> web.StreamResponse:
    period, *_rest = period_of(request)
    response = web.StreamResponse(headers={
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": 'attachment; filename="questions.csv"',
        "Cache-Control": "no-store",
    })
    await response.prepare(request)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    await response.write("\ufeff".encode())  # so spreadsheet programs read UTF-8 Vietnamese
    writer.writerow(queries.EXPORT_COLUMNS)

    def rows(session) -> List[list]:
        return [[_csv_value(v) for v in row] for row in queries.export_rows(session, period)]

    for row in await in_thread(request, rows):
        writer.writerow(row)
        if buffer.tell() > 64_000:
            await response.write(buffer.getvalue().encode("utf-8"))
            buffer.seek(0)
            buffer.truncate()
    await response.write(buffer.getvalue().encode("utf-8"))
    await response.write_eof()
    return response


def _csv_value(value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.astimezone(queries.VIETNAM).isoformat(timespec="seconds")
    if isinstance(value, str):
        return spreadsheet_safe(value)  # no formulas when the file is opened in a spreadsheet
    return value


def add_routes(app: web.Application, sessions: sessionmaker) -> None:
    app[SESSIONS_KEY] = sessions
    app[LOGIN_SECRET_KEY] = secrets.token_bytes(32)
    app.middlewares.append(admin_guard)
    app.router.add_route("*", "/admin/login", login_page)
    app.router.add_route("*", "/admin/logout", logout)
    app.router.add_get("/admin", overview_page)
    app.router.add_get("/admin/charts", charts_page)
    app.router.add_get("/admin/questions", questions_page)
    app.router.add_route("*", "/admin/inbox", inbox_page)
    app.router.add_get("/admin/inbox/export.yml", inbox_yaml)
    app.router.add_get("/admin/export/questions.csv", questions_csv)
