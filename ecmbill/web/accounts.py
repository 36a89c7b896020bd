"""Web accounts: users with argon2id password hashes, server-side sessions, and a login rate
limit kept in the database. Used by the web app and by ``ecmbill users``.

A password is never stored, logged or put in an exception message: only its argon2id hash is
kept, and a session token is stored as its SHA-256.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import cache
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ecmbill.store import accounts as stored_accounts
from ecmbill.store.accounts import NoSuchUser, StoredUser, UnknownStaff, UsernameTaken
from ecmbill.store.audit import now as moment
from ecmbill.store.db import Engine
from ecmbill.store.lookups import AuditScope

# argon2-cffi's defaults are argon2id with the RFC 9106 "low memory" profile.
_hasher = PasswordHasher()
# Verifying against a dummy hash when the user is unknown keeps the answer time the same, so
# the timing does not reveal which usernames exist.
_DUMMY_HASH = _hasher.hash("not a real password")

SESSION_LIFETIME = timedelta(hours=12)
LOGIN_WINDOW = timedelta(minutes=15)
# Failed logins within LOGIN_WINDOW before every attempt is refused without checking the
# password: for one username from one address, for one username from anywhere (so a new
# address per try does not help), and from one address whatever the username (so a new
# username per try does not help).
MAX_FAILED_LOGINS = 5
MAX_FAILED_PER_ACCOUNT = 10
MAX_FAILED_PER_ADDRESS = 20
# And overall, within one minute: a flood from many addresses is refused before any hashing.
OVERALL_WINDOW = timedelta(minutes=1)
MAX_FAILED_OVERALL = 200
MIN_PASSWORD_LENGTH = 12
# A session unused for longer than this ends, besides SESSION_LIFETIME from the login. Its
# end is moved on by a request at most once a minute, so a page view does not write each time.
IDLE_MINUTES_ENV = "ECMBILL_IDLE_MINUTES"
DEFAULT_IDLE_MINUTES = 15
IDLE_REFRESH = timedelta(minutes=1)


class UserRole(StrEnum):
    STAFF = "staff"
    SUPERVISOR = "supervisor"
    BILLER = "biller"
    ADMIN = "admin"


class AccountError(ValueError):
    """A user cannot be created or changed; the message says why (never the password)."""


@dataclass(frozen=True)
class Account:
    """The logged-in user as the web app sees it."""

    id: int
    username: str
    role: UserRole
    staff_id: str | None
    team: str | None


@dataclass(frozen=True)
class LoginResult:
    account: Account | None
    token: str | None = None
    rate_limited: bool = False
    # Which limit refused the attempt: "address", "account" or "overall".
    limit: str | None = None


def hash_password(password: str) -> str:
    return _hasher.hash(password)


@cache
def common_passwords() -> frozenset[str]:
    """The common passwords shipped with the app (``common_passwords.txt``), in lower case."""
    text = resources.files("ecmbill.web").joinpath("common_passwords.txt").read_text("utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and line[0] != "#"
    )


def password_problem(username: str, password: str) -> str | None:
    """Why a new password is refused, or None: at least ``MIN_PASSWORD_LENGTH`` characters,
    not the username nor containing it (in any case), not a common password. The reason never
    repeats the password. Every door that sets a password asks here."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"password must be at least {MIN_PASSWORD_LENGTH} characters"
    name = username.strip().lower()
    if name and name in password.lower():
        return "password must not be or contain the username"
    if password.strip().lower() in common_passwords():
        return "password is too common: pick a longer phrase of your own"
    return None


def idle_limit(text: str | None = None) -> timedelta:
    """The idle timeout: ``ECMBILL_IDLE_MINUTES`` (whole minutes, at least 1), default 15."""
    text = os.environ.get(IDLE_MINUTES_ENV, "") if text is None else text
    try:
        minutes = int(text) if text.strip() else DEFAULT_IDLE_MINUTES
    except ValueError:
        raise AccountError(f"{IDLE_MINUTES_ENV} must be a whole number of minutes") from None
    if minutes < 1:
        raise AccountError(f"{IDLE_MINUTES_ENV} must be at least 1")
    return timedelta(minutes=minutes)


def _account(user: StoredUser) -> Account:
    return Account(user.id, user.username, UserRole(user.role), user.staff_id, user.team)


def add_user(
    engine: Engine,
    *,
    username: str,
    password: str,
    role: UserRole,
    actor: str,
    staff_id: str | None = None,
    team: str | None = None,
) -> Account:
    username = username.strip().lower()
    if not username or len(username) > 64 or any(c.isspace() for c in username):
        raise AccountError("username must be 1 to 64 characters without spaces")
    problem = password_problem(username, password)
    if problem is not None:
        raise AccountError(problem)
    if role is UserRole.STAFF and not staff_id:
        raise AccountError("a staff user needs the staff_id whose time they record")
    if role is UserRole.SUPERVISOR and not team:
        raise AccountError("a supervisor needs a team")
    try:
        user = stored_accounts.create_user(
            engine,
            username=username,
            password_hash=hash_password(password),
            role=role.value,
            staff_id=staff_id or None,
            team=team or None,
            actor=actor,
        )
    except UnknownStaff:
        raise AccountError("staff_id is not a known staff member: import staff first") from None
    except UsernameTaken:
        raise AccountError("a user with that username exists already") from None
    return _account(user)


def set_active(engine: Engine, username: str, active: bool, *, actor: str) -> None:
    """Let a user log in again, or stop them (their open sessions end at once)."""
    try:
        stored_accounts.set_user_active(engine, username, active, actor=actor)
    except NoSuchUser:
        raise AccountError("no user with that username") from None


def over_limit(engine: Engine, username: str, address: str, now: datetime) -> str | None:
    """The limit a new attempt would break, if any: read before any password is hashed."""
    counts = stored_accounts.failed_login_counts(
        engine, username, address, since=now - LOGIN_WINDOW, overall_since=now - OVERALL_WINDOW
    )
    if counts.overall >= MAX_FAILED_OVERALL:
        return "overall"
    if counts.address >= MAX_FAILED_PER_ADDRESS:
        return "address"
    if counts.pair >= MAX_FAILED_LOGINS or counts.account >= MAX_FAILED_PER_ACCOUNT:
        return "account"
    return None


def _locks(engine: Engine, username: str, address: str, now: datetime) -> bool:
    """Whether one more failure reaches the account's limit (the lockout the log records)."""
    counts = stored_accounts.failed_login_counts(
        engine, username, address, since=now - LOGIN_WINDOW, overall_since=now - OVERALL_WINDOW
    )
    return counts.pair + 1 >= MAX_FAILED_LOGINS or counts.account + 1 >= MAX_FAILED_PER_ACCOUNT


def log_access(engine: Engine, account: Account, action: str, **details: str) -> None:
    """An access-log entry for the logged-in user: a PHI file downloaded, a member's page
    opened from outside the member's team, a reason to open a member off the caseload."""
    stored_accounts.log_access(engine, username=account.username, action=action, **details)


def list_users(engine: Engine) -> list[StoredUser]:
    return stored_accounts.list_users(engine)


def _team_staff(engine: Engine, account: Account) -> frozenset[str]:
    """The user's own staff id and, when they have a team, every staff member of it."""
    mine = frozenset({account.staff_id}) if account.staff_id else frozenset()
    return mine | stored_accounts.team_staff_ids(engine, account.team)


def visible_staff(engine: Engine, account: Account) -> frozenset[str]:
    """The staff whose time and outreach this user may see: their own, and for a supervisor
    also every staff member of their team. Every page, the audit page and the API ask here."""
    if account.role is UserRole.SUPERVISOR:
        return _team_staff(engine, account)
    return frozenset({account.staff_id}) if account.staff_id else frozenset()


# A member stays on a caseload this long after the last time recorded with them.
CASELOAD_DAYS = 90


def visible_members(engine: Engine, account: Account, today: date) -> frozenset[str] | None:
    """The members this user may find and open without a reason (None: every member, for a
    biller, who bills for all): those their team's staff lead, or recorded time with in the
    last ``CASELOAD_DAYS`` days; the team is the user's own staff id alone without a team.
    A member outside it opens only with a logged "break the glass" reason."""
    if account.role is UserRole.BILLER:
        return None
    if account.role not in (UserRole.STAFF, UserRole.SUPERVISOR):
        return frozenset()
    return stored_accounts.caseload_member_ids(
        engine,
        _team_staff(engine, account),
        since=today - timedelta(days=CASELOAD_DAYS),
        today=today,
    )


class MemberAccess(StrEnum):
    OPEN = "open"  # on the caseload: opens, not logged
    LOGGED = "logged"  # opens, and the view is in the access log (a biller has no team)
    REASON = "reason"  # off the caseload: opens only with a reason, logged


def member_access(engine: Engine, account: Account, member_id: str, today: date) -> MemberAccess:
    members = visible_members(engine, account, today)
    if members is None:
        return MemberAccess.LOGGED
    return MemberAccess.OPEN if member_id in members else MemberAccess.REASON


def audit_scope(engine: Engine, account: Account) -> AuditScope:
    """What of the audit trail a user reads: a supervisor only their team's time, outreach,
    accounts and access log; an admin every record without free text (notes, reasons); a
    biller everything."""
    if account.role is UserRole.SUPERVISOR:
        staff = visible_staff(engine, account)
        return AuditScope(staff, stored_accounts.usernames_of(engine, staff, account.team))
    return AuditScope(mask_free_text=account.role is UserRole.ADMIN)


def log_in(engine: Engine, username: str, password: str, address: str) -> LoginResult:
    """Check a password; open a session when it is right. Refused without checking the
    password, even when it is right, while a limit is reached (see ``MAX_FAILED_*``).

    Blocking (argon2 takes about a third of a second on purpose): the web calls it off its
    event loop, a bounded number at a time (``ecmbill.web.pages.login``)."""
    username = username.strip().lower()[:64]
    address = address[:64]
    now = moment()
    limit = over_limit(engine, username, address, now)
    if limit is not None:
        return LoginResult(None, rate_limited=True, limit=limit)
    candidate = stored_accounts.login_candidate(engine, username)
    try:
        _hasher.verify(candidate.password_hash if candidate else _DUMMY_HASH, password)
        ok = candidate is not None and candidate.user.active
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or candidate is None:
        stored_accounts.record_failed_login(
            engine, username, address, at=now, known=candidate is not None,
            locked=_locks(engine, username, address, now),
        )  # fmt: skip
        return LoginResult(None)
    token = secrets.token_urlsafe(32)
    stored_accounts.open_session(
        engine,
        candidate.user,
        address=address,
        token_hash=_token_hash(token),
        csrf_token=secrets.token_urlsafe(32),
        at=now,
        expires_at=now + min(idle_limit(), SESSION_LIFETIME),
        new_password_hash=(
            hash_password(password) if _hasher.check_needs_rehash(candidate.password_hash) else None
        ),
    )
    return LoginResult(_account(candidate.user), token=token)


@dataclass(frozen=True)
class ActiveSession:
    account: Account
    csrf_token: str


def session_for(
    engine: Engine, token: str | None, *, now: datetime | None = None
) -> ActiveSession | None:
    """The session of a cookie's token, if it is neither past ``SESSION_LIFETIME`` from its
    login nor unused for longer than the idle limit; using it moves the idle end on (written
    at most once a minute)."""
    if not token:
        return None
    found = stored_accounts.session_user(
        engine, _token_hash(token), now=now or moment(), lifetime=SESSION_LIFETIME,
        idle=idle_limit(), refresh_after=IDLE_REFRESH,
    )  # fmt: skip
    if found is None:
        return None
    user, csrf_token = found
    return ActiveSession(_account(user), csrf_token)


def log_out(engine: Engine, token: str | None) -> None:
    if token:
        stored_accounts.end_session(engine, _token_hash(token))


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
