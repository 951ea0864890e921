"""Admin accounts, logins and sessions for /admin, independent of the web framework.

Everything here takes a SQLAlchemy `sessionmaker` (see `bot.db.engine.session_factory`)
and plain values, so the aiohttp views stay thin and the logic is testable alone.

Passwords are stored as scrypt hashes (`hashlib.scrypt`, a memory-hard key-derivation
function from the standard library). Hashing takes tens of milliseconds by design:
views should call `AdminAccounts.authenticate`, `create` and `set_password` in an
executor (`loop.run_in_executor`) rather than on the event loop.

A browser session is a random token in an HttpOnly cookie; the database keeps only its
SHA-256, so a leaked database (or backup) holds no usable session. Each session also
carries a CSRF token that forms must echo back (`check_csrf`).

All datetimes are timezone-aware UTC. SQLite returns naive datetimes even from
`DateTime(timezone=True)` columns; `as_utc` (bot/db/models.py) normalises them before any comparison.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Mapping, Optional, Tuple

from sqlalchemy import delete, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from bot.db.models import AdminSession, AdminUser, as_utc, utcnow

# --- Policy constants -------------------------------------------------------------

MAX_FAILURES = 5  # consecutive wrong passwords before the account is locked
LOCKOUT = timedelta(minutes=15)  # how long a locked account stays locked
MIN_PASSWORD_LENGTH = 10
USERNAME_PATTERN = re.compile(r"^[a-z0-9._-]{3,64}$")

SESSION_LIFETIME = timedelta(hours=8)
SESSION_COOKIE = "tls_admin"
COOKIE_PATH = "/admin"
COOKIE_SAMESITE = "Strict"

LOGIN_NONCE_COOKIE = "tls_admin_login"  # the short-lived nonce cookie of the login form
LOGIN_NONCE_LIFETIME = timedelta(minutes=30)

# --- scrypt parameters ------------------------------------------------------------

# OWASP's password storage guidance for scrypt: N=2^17 (128 MiB), r=8, p=1.
# Older hashes (N=2^14) still verify and are upgraded at the next good login.
SCRYPT_N = 2**17
SCRYPT_R = 8
SCRYPT_P = 1
SALT_BYTES = 16
KEY_BYTES = 32
HASH_SCHEME = "scrypt"
# Upper bounds accepted when reading a stored hash, so a tampered row cannot make
# verification allocate gigabytes.
_MAX_N, _MAX_R, _MAX_P = 2**17, 16, 16


# --- Errors ------------------------------------------------------------------------


class AuthError(ValueError):
    """Base class of the account errors the admin views report to the user."""


class PasswordTooShort(AuthError):
    """The password is empty or shorter than MIN_PASSWORD_LENGTH characters."""


class InvalidUsername(AuthError):
    """The username is not 3-64 characters of [a-z0-9._-] (after trim and lower-case)."""


class UserExists(AuthError):
    """An admin with this username already exists."""


class InvalidRole(AuthError):
    """Not one of ROLES."""


# editor: proposes answer changes; approver: also publishes (bot/answers/store.py)
ROLES = ("approver", "editor")


class UnknownUser(LookupError):
    """No admin with this username."""


# --- Time ---------------------------------------------------------------------------


def _now(now: Optional[datetime]) -> datetime:
    return as_utc(now) if now is not None else utcnow()


# --- Passwords ----------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
    # OpenSSL needs about 128 * r * (n + p + 2) bytes; allow that plus a margin.
    maxmem = 128 * r * (n + p + 2) + 2**20
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=maxmem, dklen=dklen)


def hash_password(password: str) -> str:
    """`scrypt$131072$8$1$<salt b64>$<hash b64>` of `password`, with a fresh random salt."""
    salt = secrets.token_bytes(SALT_BYTES)
    key = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P, KEY_BYTES)
    return "$".join([HASH_SCHEME, str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P), _b64(salt), _b64(key)])


def _parse_hash(stored: str) -> Optional[Tuple[int, int, int, bytes, bytes]]:
    """(n, r, p, salt, key) of a stored hash, or None when it is malformed or out of bounds."""
    parts = stored.split("$") if isinstance(stored, str) else []
    if len(parts) != 6 or parts[0] != HASH_SCHEME:
        return None
    try:
        n, r, p = int(parts[1]), int(parts[2]), int(parts[3])
        salt, key = _unb64(parts[4]), _unb64(parts[5])
    except (ValueError, binascii.Error):
        return None
    if not (1 < n <= _MAX_N and n & (n - 1) == 0 and 0 < r <= _MAX_R and 0 < p <= _MAX_P):
        return None
    if not salt or not 16 <= len(key) <= 64:
        return None
    return n, r, p, salt, key


def verify_password(password: str, stored: str) -> bool:
    """Whether `password` matches the stored scrypt hash (constant-time comparison).

    A malformed or tampered stored value never matches.
    """
    parsed = _parse_hash(stored)
    if parsed is None or not isinstance(password, str):
        return False
    n, r, p, salt, key = parsed
    try:
        candidate = _scrypt(password, salt, n, r, p, len(key))
    except ValueError:
        return False
    return hmac.compare_digest(candidate, key)


def _dummy_hash() -> str:
    """A hash of a random password at the current cost, verified for unknown usernames to equalise timing."""
    return _dummy_hash_at(SCRYPT_N)


@lru_cache(maxsize=4)
def _dummy_hash_at(n: int) -> str:
    return hash_password(secrets.token_urlsafe(16))


def check_password_policy(password: str) -> None:
    """Raise PasswordTooShort unless `password` has at least MIN_PASSWORD_LENGTH characters."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise PasswordTooShort(f"The password must have at least {MIN_PASSWORD_LENGTH} characters.")


def normalise_username(username: str) -> str:
    """`username` trimmed and lower-cased; InvalidUsername unless 3-64 chars of [a-z0-9._-]."""
    name = username.strip().lower() if isinstance(username, str) else ""
    if not USERNAME_PATTERN.match(name):
        raise InvalidUsername("A username has 3-64 characters: letters a-z, digits, '.', '_' or '-'.")
    return name


# --- Accounts -----------------------------------------------------------------------


@dataclass(frozen=True)
class LoginResult:
    """The outcome of a login attempt. `reason` is "invalid" or "locked" when not ok."""

    ok: bool
    user_id: Optional[int] = None
    reason: Optional[str] = None
    locked_until: Optional[datetime] = None


class AdminAccounts:
    """Create admins, change passwords and check logins, with a lock-out on guessing."""

    def __init__(self, sessions: sessionmaker) -> None:
        self._sessions = sessions
        _dummy_hash()  # computed once now, so the first unknown-user login is not slower

    def count(self) -> int:
        with self._sessions() as db:
            return db.execute(select(func.count()).select_from(AdminUser)).scalar_one()

    def create(self, username: str, password: str, role: str = "approver") -> AdminUser:
        """A new admin (role "approver" or "editor"); InvalidUsername, PasswordTooShort or UserExists when refused."""
        name = normalise_username(username)
        if role not in ROLES:
            raise InvalidRole(f"The role must be one of {', '.join(ROLES)}.")
        check_password_policy(password)
        user = AdminUser(username=name, password_hash=hash_password(password), failed_logins=0, created_at=utcnow(),
                         role=role)
        with self._sessions() as db:
            if db.execute(select(AdminUser.id).where(AdminUser.username == name)).first() is not None:
                raise UserExists(f"The admin {name!r} already exists.")
            db.add(user)
            try:
                db.commit()
            except IntegrityError as error:  # created concurrently by another process
                db.rollback()
                raise UserExists(f"The admin {name!r} already exists.") from error
            db.refresh(user)  # loaded, so usable once detached whatever expire_on_commit is
        return user

    def set_password(self, username: str, password: str) -> None:
        """Replace the password of `username`, lift any lock-out and end every session of the
        account (a stolen session does not outlive a password change); UnknownUser if absent."""
        name = normalise_username(username)
        check_password_policy(password)
        new_hash = hash_password(password)
        with self._sessions.begin() as db:
            user = db.execute(select(AdminUser).where(AdminUser.username == name)).scalar_one_or_none()
            if user is None:
                raise UnknownUser(name)
            user.password_hash = new_hash
            user.failed_logins = 0
            user.locked_until = None
            db.execute(delete(AdminSession).where(AdminSession.user_id == user.id))

    def bootstrap_from_env(self, env: Mapping[str, str]) -> Optional[str]:
        """Create the first admin from ADMIN_USERNAME / ADMIN_PASSWORD; its name, or None.

        Does nothing (None) when either variable is missing or empty, or when any admin
        exists already: an existing account is never overwritten. A username or password
        that breaks the rules raises, so a misconfiguration shows at start-up.
        """
        username = (env.get("ADMIN_USERNAME") or "").strip()
        password = env.get("ADMIN_PASSWORD") or ""
        if not username or not password or self.count() > 0:
            return None
        try:
            return self.create(username, password).username
        except UserExists:  # another process bootstrapped at the same moment
            return None

    def authenticate(
        self, username: str, password: str, now: Optional[datetime] = None, clean_address: bool = False
    ) -> LoginResult:
        """Check a login; after MAX_FAILURES consecutive failures the account locks for LOCKOUT.

        Unknown usernames cost one scrypt like known ones and answer "invalid", exactly like
        a wrong password. While locked, every attempt answers "locked" and does not extend
        the lock, except the right password from a `clean_address` (one the web app saw no
        failed login from lately): a stranger's wrong guesses cannot lock the admin out.
        The failure that reaches MAX_FAILURES answers "locked" too.

        The password is checked outside any transaction and a failure is counted with one
        atomic UPDATE, so parallel attempts (also on SQLite) lose no increment.
        """
        now = _now(now)
        try:
            name = normalise_username(username)
        except InvalidUsername:
            verify_password(password, _dummy_hash())
            return LoginResult(ok=False, reason="invalid")
        with self._sessions() as db:
            row = db.execute(
                select(AdminUser.id, AdminUser.password_hash, AdminUser.locked_until).where(AdminUser.username == name)
            ).first()
        if row is None:
            verify_password(password, _dummy_hash())
            return LoginResult(ok=False, reason="invalid")
        user_id, stored, locked_until = row.id, row.password_hash, as_utc(row.locked_until)
        locked = locked_until is not None and locked_until > now
        if locked and not clean_address:
            return LoginResult(ok=False, user_id=None, reason="locked", locked_until=locked_until)
        matches = verify_password(password, stored)
        with self._sessions.begin() as db:
            if matches:
                values = {"failed_logins": 0, "locked_until": None, "last_login_at": now}
                if _needs_rehash(stored):
                    values["password_hash"] = hash_password(password)
                db.execute(update(AdminUser).where(AdminUser.id == user_id).values(**values))
                return LoginResult(ok=True, user_id=user_id)
            if locked:
                return LoginResult(ok=False, user_id=None, reason="locked", locked_until=locked_until)
            if locked_until is not None:  # the lock has expired: a fresh series of attempts
                db.execute(update(AdminUser).where(AdminUser.id == user_id).values(failed_logins=0, locked_until=None))
            db.execute(
                update(AdminUser).where(AdminUser.id == user_id)
                .values(failed_logins=func.coalesce(AdminUser.failed_logins, 0) + 1)
            )
            failures = db.execute(select(AdminUser.failed_logins).where(AdminUser.id == user_id)).scalar_one()
            if failures >= MAX_FAILURES:
                until = now + LOCKOUT
                db.execute(update(AdminUser).where(AdminUser.id == user_id).values(locked_until=until))
                return LoginResult(ok=False, reason="locked", locked_until=until)
        return LoginResult(ok=False, reason="invalid")


def _needs_rehash(stored: str) -> bool:
    parsed = _parse_hash(stored)
    return parsed is not None and (parsed[0], parsed[1], parsed[2]) < (SCRYPT_N, SCRYPT_R, SCRYPT_P)


# --- Sessions -----------------------------------------------------------------------


@dataclass(frozen=True)
class SessionInfo:
    """A valid admin session, as the views see it."""

    user_id: int
    username: str
    csrf_token: str
    expires_at: datetime
    role: str = "approver"  # "editor" or "approver" (answers, bot/answers/store.py)


def token_hash(token: str) -> str:
    """The SHA-256 hex of a session token: the only form the database stores."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _same_secret(expected: str, submitted: Optional[str]) -> bool:
    """Constant-time equality of two strings; False when `submitted` is missing or empty."""
    if not expected or not submitted or not isinstance(submitted, str):
        return False
    return hmac.compare_digest(expected.encode("utf-8"), submitted.encode("utf-8"))


def check_csrf(info: SessionInfo, submitted: Optional[str]) -> bool:
    """Whether a submitted form's CSRF token is the session's (constant-time)."""
    return _same_secret(info.csrf_token, submitted)


class AdminSessions:
    """Logged-in browsers: random tokens (hashed in the database) with a fixed lifetime."""

    check_csrf = staticmethod(check_csrf)

    def __init__(self, sessions: sessionmaker, lifetime: timedelta = SESSION_LIFETIME) -> None:
        self._sessions = sessions
        self.lifetime = lifetime

    def start(self, user_id: int, now: Optional[datetime] = None) -> Tuple[str, str]:
        """A new session of `user_id`: (token for the cookie, CSRF token for the forms)."""
        now = _now(now)
        token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
        with self._sessions.begin() as db:
            db.add(AdminSession(
                token_hash=token_hash(token), user_id=user_id, csrf_token=csrf,
                created_at=now, expires_at=now + self.lifetime,
            ))
        return token, csrf

    def lookup(self, token: Optional[str], now: Optional[datetime] = None) -> Optional[SessionInfo]:
        """The session of a cookie token; None if empty, unknown or expired (expired ones are deleted)."""
        if not token or not isinstance(token, str):
            return None
        now = _now(now)
        key = token_hash(token)
        with self._sessions.begin() as db:
            row = db.execute(
                select(AdminSession, AdminUser.username, AdminUser.role)
                .join(AdminUser, AdminUser.id == AdminSession.user_id, isouter=True)
                .where(AdminSession.token_hash == key)
            ).first()
            if row is None:
                return None
            stored, username, role = row
            expires_at = as_utc(stored.expires_at)
            if expires_at <= now or username is None:  # expired, or its admin was removed
                db.delete(stored)
                return None
            return SessionInfo(user_id=stored.user_id, username=username,
                               csrf_token=stored.csrf_token, expires_at=expires_at, role=role or "approver")

    def end(self, token: Optional[str]) -> None:
        """Log out: forget the session of `token` (no-op when unknown)."""
        if not token or not isinstance(token, str):
            return
        with self._sessions.begin() as db:
            db.execute(delete(AdminSession).where(AdminSession.token_hash == token_hash(token)))

    def end_all(self, user_id: int) -> int:
        """Log `user_id` out everywhere (e.g. after a password change); how many sessions ended."""
        with self._sessions.begin() as db:
            return db.execute(delete(AdminSession).where(AdminSession.user_id == user_id)).rowcount

    def purge_expired(self, now: Optional[datetime] = None) -> int:
        """Delete the sessions expired at `now`; how many were deleted."""
        now = _now(now)
        with self._sessions.begin() as db:
            return db.execute(delete(AdminSession).where(AdminSession.expires_at <= now)).rowcount


# --- Login-form CSRF ------------------------------------------------------------------

_LOGIN_CSRF_CONTEXT = b"tro-ly-so admin login csrf\x00"


def new_login_nonce() -> str:
    """A random nonce for the login form's short-lived cookie."""
    return secrets.token_urlsafe(32)


def login_csrf_token(secret: bytes, nonce: str) -> str:
    """The CSRF token the login form carries: HMAC-SHA256(secret, nonce), hex.

    The login form has no session yet, so it uses a signed double-submit pattern:
    when rendering the form, the view sets a random nonce (`new_login_nonce`) in a
    short-lived cookie (LOGIN_NONCE_COOKIE: HttpOnly, SameSite=Strict, Path=/admin)
    and puts `login_csrf_token(secret, nonce)` in a hidden form field. On POST, the
    view accepts the login only if `verify_login_csrf(secret, cookie_nonce, field)`.
    A cross-site page can neither read the cookie nor compute the HMAC without the
    server's secret, and a cookie planted by a sibling (sub)domain is useless
    without the matching HMAC.
    """
    return hmac.new(secret, _LOGIN_CSRF_CONTEXT + nonce.encode("utf-8"), hashlib.sha256).hexdigest()


def verify_login_csrf(secret: bytes, nonce: Optional[str], token: Optional[str]) -> bool:
    """Whether `token` is the login CSRF token of `nonce` (constant-time); False if either is missing."""
    if not nonce or not isinstance(nonce, str):
        return False
    return _same_secret(login_csrf_token(secret, nonce), token)


# --- Cookies ---------------------------------------------------------------------------


def cookie_kwargs(secure: bool, lifetime: timedelta = SESSION_LIFETIME) -> dict:
    """Keyword arguments of aiohttp's `response.set_cookie(SESSION_COOKIE, token, **...)`.

    `secure` should be True whenever the admin is served over HTTPS.
    """
    return {
        "httponly": True,
        "samesite": COOKIE_SAMESITE,
        "path": COOKIE_PATH,
        "secure": bool(secure),
        "max_age": int(lifetime.total_seconds()),
    }


def login_nonce_cookie_kwargs(secure: bool) -> dict:
    """`set_cookie` keyword arguments of the login form's nonce cookie (LOGIN_NONCE_COOKIE)."""
    return cookie_kwargs(secure, LOGIN_NONCE_LIFETIME)
