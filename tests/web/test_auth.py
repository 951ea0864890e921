"""Admin accounts, lock-out, sessions and CSRF (bot/web/auth.py) on SQLite and PostgreSQL."""
import base64
import hashlib
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from bot.db.engine import session_factory
from bot.db.models import AdminSession, AdminUser
from bot.web import auth
from bot.web.auth import (
    LOCKOUT,
    MAX_FAILURES,
    SESSION_COOKIE,
    AdminAccounts,
    AdminSessions,
    InvalidUsername,
    PasswordTooShort,
    UserExists,
    check_csrf,
    cookie_kwargs,
    hash_password,
    login_csrf_token,
    verify_login_csrf,
    verify_password,
)

PASSWORD = "dung-mat-khau-2026"
T0 = datetime(2026, 11, 25, 8, 0, tzinfo=timezone.utc)


@pytest.fixture
def sessions(database):
    return session_factory(database)


@pytest.fixture
def accounts(sessions):
    return AdminAccounts(sessions)


@pytest.fixture
def admin(accounts):
    return accounts.create("admin", PASSWORD)


def stored_user(sessions, name="admin"):
    with sessions() as db:
        return db.execute(select(AdminUser).where(AdminUser.username == name)).scalar_one()


def session_rows(sessions):
    with sessions() as db:
        return db.execute(select(AdminSession)).scalars().all()


def utc(value):
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value


# --- Password hashes -------------------------------------------------------------------


@pytest.mark.production_scrypt
def test_hash_has_the_documented_format_and_verifies():
    stored = hash_password(PASSWORD)
    scheme, n, r, p, salt, key = stored.split("$")
    assert (scheme, n, r, p) == ("scrypt", "131072", "8", "1")
    assert len(base64.b64decode(salt)) == 16
    expected = hashlib.scrypt(PASSWORD.encode(), salt=base64.b64decode(salt), n=2**17, r=8, p=1, dklen=32, maxmem=2**28)
    assert base64.b64decode(key) == expected
    assert verify_password(PASSWORD, stored)


def test_each_hash_has_its_own_salt():
    assert hash_password(PASSWORD) != hash_password(PASSWORD)


def test_wrong_password_does_not_verify():
    stored = hash_password(PASSWORD)
    assert not verify_password(PASSWORD + "x", stored)
    assert not verify_password("", stored)


def _flip_key(stored):
    parts = stored.split("$")
    key = bytearray(base64.b64decode(parts[5]))
    key[0] ^= 1
    parts[5] = base64.b64encode(bytes(key)).decode()
    return "$".join(parts)


def _other_salt(stored):
    parts = stored.split("$")
    parts[4] = base64.b64encode(b"\x00" * 16).decode()
    return "$".join(parts)


def _other_cost(stored):
    return stored.replace("$16384$", "$8192$", 1)


@pytest.mark.parametrize("tamper", [
    _flip_key,
    _other_salt,
    _other_cost,
    lambda s: s.replace("scrypt$", "pbkdf2$", 1),
    lambda s: s.rsplit("$", 1)[0],  # no key
    lambda s: s[:-4] + "!!!!",  # not base64
    lambda s: s.replace("$16384$", "$99999999999$", 1),  # absurd cost
    lambda s: "",
])
def test_tampered_stored_value_never_verifies(tamper):
    stored = hash_password(PASSWORD)
    assert verify_password(PASSWORD, stored)
    assert not verify_password(PASSWORD, tamper(stored))


# --- Accounts ----------------------------------------------------------------------------


@pytest.mark.parametrize("password", ["", "short", "123456789"])
def test_short_passwords_are_refused(accounts, password):
    with pytest.raises(PasswordTooShort):
        accounts.create("admin", password)
    assert accounts.count() == 0


def test_ten_characters_are_enough_and_set_password_checks_too(accounts):
    accounts.create("admin", "0123456789")
    with pytest.raises(PasswordTooShort):
        accounts.set_password("admin", "012345678")
    assert accounts.authenticate("admin", "0123456789", now=T0).ok
    accounts.set_password("admin", PASSWORD)
    assert not accounts.authenticate("admin", "0123456789", now=T0).ok
    assert accounts.authenticate("admin", PASSWORD, now=T0).ok


@pytest.mark.parametrize("username", ["ab", "a" * 65, "ad min", "quản-trị", "admin!", "", "   "])
def test_invalid_usernames_are_refused(accounts, username):
    with pytest.raises(InvalidUsername):
        accounts.create(username, PASSWORD)
    assert accounts.count() == 0


def test_usernames_are_trimmed_and_lower_cased(accounts, sessions):
    user = accounts.create("  Ops.Team_1-X ", PASSWORD)
    assert user.username == "ops.team_1-x"
    assert stored_user(sessions, "ops.team_1-x").id == user.id
    assert accounts.create("a" * 64, PASSWORD).username == "a" * 64
    assert accounts.authenticate(" OPS.team_1-x", PASSWORD, now=T0).ok


def test_duplicate_username_is_refused(accounts, admin):
    with pytest.raises(UserExists):
        accounts.create(" ADMIN ", "another-password-1")
    assert accounts.count() == 1
    assert accounts.authenticate("admin", PASSWORD, now=T0).ok


def test_bootstrap_creates_the_first_admin_once(accounts):
    env = {"ADMIN_USERNAME": "Admin", "ADMIN_PASSWORD": PASSWORD}
    assert accounts.bootstrap_from_env(env) == "admin"
    assert accounts.count() == 1
    assert accounts.bootstrap_from_env({"ADMIN_USERNAME": "admin", "ADMIN_PASSWORD": "replaced-password"}) is None
    assert accounts.count() == 1
    assert accounts.authenticate("admin", PASSWORD, now=T0).ok
    assert not accounts.authenticate("admin", "replaced-password", now=T0).ok


def test_bootstrap_does_nothing_when_an_admin_exists(accounts):
    accounts.create("alice", PASSWORD)
    assert accounts.bootstrap_from_env({"ADMIN_USERNAME": "bob", "ADMIN_PASSWORD": PASSWORD}) is None
    assert accounts.count() == 1
    assert accounts.authenticate("bob", PASSWORD, now=T0).reason == "invalid"


@pytest.mark.parametrize("env", [
    {},
    {"ADMIN_USERNAME": "admin"},
    {"ADMIN_PASSWORD": PASSWORD},
    {"ADMIN_USERNAME": "", "ADMIN_PASSWORD": PASSWORD},
    {"ADMIN_USERNAME": "admin", "ADMIN_PASSWORD": ""},
])
def test_bootstrap_needs_both_variables(accounts, env):
    assert accounts.bootstrap_from_env(env) is None
    assert accounts.count() == 0


# --- Logins and lock-out ------------------------------------------------------------------


def test_successful_login_resets_failures(accounts, admin, sessions):
    for _ in range(MAX_FAILURES - 1):
        assert accounts.authenticate("admin", "wrong-password", now=T0).reason == "invalid"
    assert stored_user(sessions).failed_logins == MAX_FAILURES - 1
    result = accounts.authenticate("admin", PASSWORD, now=T0 + timedelta(seconds=5))
    assert result.ok and result.user_id == admin.id and result.reason is None
    user = stored_user(sessions)
    assert user.failed_logins == 0
    assert utc(user.last_login_at) == T0 + timedelta(seconds=5)
    # The count starts again: four more failures do not lock.
    for _ in range(MAX_FAILURES - 1):
        accounts.authenticate("admin", "wrong-password", now=T0)
    assert accounts.authenticate("admin", PASSWORD, now=T0).ok


def test_wrong_password_is_invalid(accounts, admin, sessions):
    result = accounts.authenticate("admin", "wrong-password", now=T0)
    assert result == auth.LoginResult(ok=False, user_id=None, reason="invalid", locked_until=None)
    assert stored_user(sessions).failed_logins == 1
    assert stored_user(sessions).last_login_at is None


def test_unknown_user_is_invalid_and_costs_a_hash(accounts, admin, monkeypatch):
    checked = []
    real = auth.verify_password
    monkeypatch.setattr(auth, "verify_password", lambda pw, stored: checked.append(stored) or real(pw, stored))
    unknown = accounts.authenticate("nobody", PASSWORD, now=T0)
    wrong = accounts.authenticate("admin", "wrong-password", now=T0)
    assert unknown == wrong == auth.LoginResult(ok=False, reason="invalid")
    assert len(checked) == 2 and checked[0].startswith("scrypt$16384$8$1$")
    # An impossible username costs a hash as well.
    assert accounts.authenticate("x", PASSWORD, now=T0) == unknown
    assert len(checked) == 3


FIFTEEN_MINUTES = timedelta(minutes=15)


def test_five_failures_lock_the_account(accounts, admin, sessions):
    for _ in range(4):
        assert accounts.authenticate("admin", "wrong-password", now=T0).reason == "invalid"
    fifth = accounts.authenticate("admin", "wrong-password", now=T0)
    assert not fifth.ok and fifth.reason == "locked" and fifth.locked_until == T0 + FIFTEEN_MINUTES
    assert utc(stored_user(sessions).locked_until) == T0 + FIFTEEN_MINUTES
    right = accounts.authenticate("admin", PASSWORD, now=T0 + timedelta(minutes=1))
    assert not right.ok and right.reason == "locked" and right.locked_until == T0 + FIFTEEN_MINUTES
    assert stored_user(sessions).last_login_at is None


def test_the_lock_expires_after_fifteen_minutes(accounts, admin, sessions):
    for _ in range(5):
        accounts.authenticate("admin", "wrong-password", now=T0)
    # Attempts during the lock neither succeed nor extend it.
    late = T0 + FIFTEEN_MINUTES - timedelta(seconds=1)
    assert accounts.authenticate("admin", "wrong-password", now=late).reason == "locked"
    assert accounts.authenticate("admin", PASSWORD, now=late).reason == "locked"
    assert utc(stored_user(sessions).locked_until) == T0 + FIFTEEN_MINUTES
    # Once expired, a wrong password starts a fresh count instead of locking again.
    assert accounts.authenticate("admin", "wrong-password", now=T0 + FIFTEEN_MINUTES).reason == "invalid"
    assert stored_user(sessions).failed_logins == 1
    result = accounts.authenticate("admin", PASSWORD, now=T0 + FIFTEEN_MINUTES + timedelta(seconds=1))
    assert result.ok
    user = stored_user(sessions)
    assert user.failed_logins == 0 and user.locked_until is None


def test_set_password_lifts_the_lock(accounts, admin):
    for _ in range(MAX_FAILURES):
        accounts.authenticate("admin", "wrong-password", now=T0)
    accounts.set_password("admin", "a-brand-new-password")
    assert accounts.authenticate("admin", "a-brand-new-password", now=T0).ok


# --- Sessions ----------------------------------------------------------------------------------


def test_session_start_lookup_end(sessions, admin):
    store = AdminSessions(sessions)
    token, csrf = store.start(admin.id, now=T0)
    assert token != csrf and len(token) >= 40 and len(csrf) >= 40
    info = store.lookup(token, now=T0 + timedelta(hours=1))
    assert info == auth.SessionInfo(user_id=admin.id, username="admin", csrf_token=csrf,
                                    expires_at=T0 + timedelta(hours=8))
    assert info.expires_at.tzinfo is not None
    store.end(token)
    assert store.lookup(token, now=T0) is None
    assert session_rows(sessions) == []


def test_the_database_never_holds_the_raw_token(sessions, admin):
    store = AdminSessions(sessions)
    token, csrf = store.start(admin.id)
    [row] = session_rows(sessions)
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    values = [str(getattr(row, column.name)) for column in AdminSession.__table__.columns]
    assert not any(token in value for value in values)
    assert row.csrf_token == csrf


@pytest.mark.parametrize("token", [None, "", "not-a-session-token"])
def test_unknown_or_empty_tokens_have_no_session(sessions, admin, token):
    store = AdminSessions(sessions)
    store.start(admin.id)
    assert store.lookup(token) is None
    assert len(session_rows(sessions)) == 1


def test_expired_sessions_are_refused_and_deleted(sessions, admin):
    store = AdminSessions(sessions, lifetime=timedelta(hours=8))
    token, _ = store.start(admin.id, now=T0)
    assert store.lookup(token, now=T0 + timedelta(hours=8) - timedelta(seconds=1)) is not None
    assert store.lookup(token, now=T0 + timedelta(hours=8)) is None
    assert session_rows(sessions) == []
    assert store.lookup(token, now=T0) is None  # gone, not just hidden


def test_purge_expired_deletes_only_expired_sessions(sessions, admin):
    store = AdminSessions(sessions, lifetime=timedelta(hours=1))
    old, _ = store.start(admin.id, now=T0)
    fresh, _ = store.start(admin.id, now=T0 + timedelta(minutes=45))
    assert store.purge_expired(now=T0 + timedelta(hours=1, minutes=1)) == 1
    assert [row.token_hash for row in session_rows(sessions)] == [auth.token_hash(fresh)]
    assert store.lookup(fresh, now=T0 + timedelta(hours=1, minutes=1)) is not None
    assert store.purge_expired(now=T0 + timedelta(hours=1, minutes=1)) == 0


def test_end_all_logs_a_user_out_everywhere(sessions, accounts, admin):
    other = accounts.create("other", PASSWORD)
    store = AdminSessions(sessions)
    first, _ = store.start(admin.id)
    second, _ = store.start(admin.id)
    kept, _ = store.start(other.id)
    assert store.end_all(admin.id) == 2
    assert store.lookup(first) is None and store.lookup(second) is None
    assert store.lookup(kept).username == "other"


def test_csrf_check(sessions, admin):
    store = AdminSessions(sessions)
    token, csrf = store.start(admin.id)
    info = store.lookup(token)
    assert check_csrf(info, csrf)
    assert AdminSessions.check_csrf(info, csrf)
    for submitted in [None, "", csrf[:-1], csrf + "x", csrf.swapcase(), "mã-sai"]:
        assert not check_csrf(info, submitted)


# --- Login-form CSRF and cookies ---------------------------------------------------------------------


def test_login_csrf_round_trip_and_tampering():
    secret, nonce = b"s" * 32, auth.new_login_nonce()
    token = login_csrf_token(secret, nonce)
    assert verify_login_csrf(secret, nonce, token)
    assert login_csrf_token(secret, nonce) == token  # deterministic for one nonce
    assert not verify_login_csrf(secret, nonce, token[:-1] + ("0" if token[-1] != "0" else "1"))
    assert not verify_login_csrf(secret, auth.new_login_nonce(), token)
    assert not verify_login_csrf(b"t" * 32, nonce, token)
    assert not verify_login_csrf(secret, nonce, None)
    assert not verify_login_csrf(secret, nonce, "")
    assert not verify_login_csrf(secret, None, token)
    assert not verify_login_csrf(secret, "", login_csrf_token(secret, ""))
    assert token != nonce and nonce not in token


def test_cookie_settings():
    assert SESSION_COOKIE == "tls_admin"
    assert cookie_kwargs(True) == {"httponly": True, "samesite": "Strict", "path": "/admin",
                                   "secure": True, "max_age": 8 * 3600}
    assert cookie_kwargs(False)["secure"] is False
    assert cookie_kwargs(False, timedelta(minutes=30))["max_age"] == 1800


def test_policy_constants():
    assert MAX_FAILURES == 5
    assert LOCKOUT == timedelta(minutes=15)
