"""Web accounts: users with argon2id password hashes, server-side sessions, and a login rate
limit kept in the database. Used by the web app and by ``ecmbill users``.

A password is never stored, logged or put in an exception message: only its argon2id hash is
kept, and a session token is stored as its SHA-256.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import cache
from importlib import resources

import pyotp
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
# MFA (TOTP, RFC 6238: 6 digits every 30 seconds) is required of these roles: they reach every
# member's billing data or every account. Others may enrol from their account page.
MFA_REQUIRED = frozenset({"admin", "biller"})
# After the right password, the code is awaited this long before the password is asked again.
CODE_WAIT = timedelta(minutes=5)
CODE_STAGE = "code"
RECOVERY_CODES = 10
# Recovery codes are 10 random characters (about 50 bits): argon2id with lighter settings
# than a password's is ample, and checking ten of them stays well under a second.
_code_hasher = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
_RECOVERY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read off paper


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
    mfa_enrolled: bool = False
    must_change_password: bool = False


@dataclass(frozen=True)
class LoginResult:
    account: Account | None
    token: str | None = None
    rate_limited: bool = False
    # Which limit refused the attempt: "address", "account" or "overall".
    limit: str | None = None
    # "code": the password was right, the token is of a session awaiting the MFA code.
    stage: str | None = None
    # A recovery code was used instead of a TOTP code: how many are left.
    recovery_left: int | None = None
    # The code was right but of a time-step already used: refused (each code is used once).
    reused: bool = False


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
    return Account(
        user.id, user.username, UserRole(user.role), user.staff_id, user.team,
        mfa_enrolled=user.mfa_enrolled, must_change_password=user.must_change_password,
    )  # fmt: skip


def mfa_required(role: UserRole) -> bool:
    return role.value in MFA_REQUIRED


def pending_step(account: Account) -> str | None:
    """The page a logged-in user must go through before any other: a password to change
    after an admin's reset, then MFA enrolment for a role that requires it."""
    if account.must_change_password:
        return "/account/password"
    if mfa_required(account.role) and not account.mfa_enrolled:
        return "/account/mfa"
    return None


def _check_roles(role: UserRole, staff_id: str | None, team: str | None) -> None:
    if role is UserRole.STAFF and not staff_id:
        raise AccountError("a staff user needs the staff_id whose time they record")
    if role is UserRole.SUPERVISOR and not team:
        raise AccountError("a supervisor needs a team")


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
    _check_roles(role, staff_id, team)
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


def find_user(engine: Engine, username: str) -> Account:
    try:
        return _account(stored_accounts.find_user(engine, username.strip().lower()))
    except NoSuchUser:
        raise AccountError("no user with that username") from None


def set_user(
    engine: Engine,
    username: str,
    *,
    role: UserRole,
    staff_id: str | None,
    team: str | None,
    actor: str,
) -> Account:
    """Change a user's role, staff member and team (audited); the same rules as adding one.
    The web's admin page and ``ecmbill users set`` both come here."""
    _check_roles(role, staff_id, team)
    try:
        user = stored_accounts.update_user(
            engine, username.strip().lower(), role=role.value, staff_id=staff_id or None,
            team=team or None, actor=actor,
        )  # fmt: skip
    except NoSuchUser:
        raise AccountError("no user with that username") from None
    except UnknownStaff:
        raise AccountError("staff_id is not a known staff member: import staff first") from None
    return _account(user)


def temporary_password(username: str) -> str:
    """A random password that passes the policy (16 characters, about 96 bits)."""
    while True:
        candidate = secrets.token_urlsafe(12)
        if password_problem(username, candidate) is None:
            return candidate


def reset_password(engine: Engine, username: str, *, actor: str) -> str:
    """An admin's reset: a temporary password, returned once to be shown once, that the user
    must change at the next login before any page opens; every session of the user ends
    (audited). The web's admin page and ``ecmbill users reset-password`` both come here."""
    username = username.strip().lower()
    password = temporary_password(username)
    try:
        stored_accounts.set_password(
            engine, username, hash_password(password), must_change=True, actor=actor
        )
    except NoSuchUser:
        raise AccountError("no user with that username") from None
    return password


def change_password(
    engine: Engine, account: Account, current: str, new: str, *, session_token: str | None
) -> None:
    """A user's change of their own password: the current one is checked, the policy applies
    and the new one differs; their other sessions end (audited, and in the access log).
    Blocking (argon2): the web calls it off the event loop."""
    stored = stored_accounts.password_hash_of(engine, account.id)
    try:
        _hasher.verify(stored or _DUMMY_HASH, current)
    except (VerificationError, InvalidHashError):
        raise AccountError("the current password is not right") from None
    problem = password_problem(account.username, new)
    if problem is not None:
        raise AccountError(problem)
    if new == current:
        raise AccountError("the new password must differ from the current one")
    stored_accounts.set_password(
        engine, account.username, hash_password(new), must_change=False,
        actor=f"web:{account.username}",
        keep_session=_token_hash(session_token) if session_token else None,
    )  # fmt: skip


def new_mfa_secret() -> str:
    return pyotp.random_base32()


def mfa_uri(username: str, secret: str) -> str:
    """The otpauth:// address an authenticator app reads (from a QR code or typed in)."""
    return pyotp.TOTP(secret).provisioning_uri(name=username, issuer_name="ecmbill")


def _totp_step(secret: str, code: str, at: datetime | None = None) -> int | None:
    """The time-step (RFC 6238 counter) whose code ``code`` is, among the steps accepted at
    ``at``: the current one and one 30-second step either side (a phone's clock a little
    off still works). None when it is none of them. The caller refuses a step not later
    than the last one accepted for the user (``stored_accounts.accept_totp_step``): a code
    is used once."""
    code = "".join(code.split())
    if len(code) != 6 or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret)
    now = totp.timecode(at or moment())
    found = None
    for step in (now - 1, now, now + 1):  # every step compared: the time does not tell which
        if hmac.compare_digest(totp.generate_otp(step), code):
            found = step if found is None else max(found, step)
    return found


def new_recovery_codes() -> list[str]:
    def part() -> str:
        return "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(5))

    return [f"{part()}-{part()}" for _ in range(RECOVERY_CODES)]


def _recovery_form(code: str) -> str:
    return "".join(c for c in code.upper() if c.isalnum())


def enrol_mfa(engine: Engine, account: Account, secret: str, code: str) -> list[str]:
    """Keep ``secret`` once a code made from it is right; the ten recovery codes returned
    are shown once and kept only hashed (audited). Enrolling again replaces both."""
    try:
        step = _totp_step(secret, code) if 16 <= len(secret) <= 64 else None
    except (ValueError, TypeError):  # not base32: a tampered form
        step = None
    if step is None:
        raise AccountError("that code does not match: type the 6 digits the app shows now")
    codes = new_recovery_codes()
    stored_accounts.enrol_mfa(
        engine, account.username, secret,
        [_code_hasher.hash(_recovery_form(c)) for c in codes], actor=f"web:{account.username}",
        step=step,
    )  # fmt: skip
    return codes


def reset_mfa(engine: Engine, username: str, *, actor: str) -> None:
    """An admin's reset of a user's MFA (a lost phone): audited, the user's sessions end."""
    try:
        stored_accounts.reset_mfa(engine, username.strip().lower(), actor=actor)
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
    stage = CODE_STAGE if candidate.user.mfa_enrolled else None
    stored_accounts.open_session(
        engine,
        candidate.user,
        address=address,
        token_hash=_token_hash(token),
        csrf_token=secrets.token_urlsafe(32),
        at=now,
        expires_at=now + (CODE_WAIT if stage else min(idle_limit(), SESSION_LIFETIME)),
        new_password_hash=(
            hash_password(password) if _hasher.check_needs_rehash(candidate.password_hash) else None
        ),
        stage=stage,
    )
    return LoginResult(_account(candidate.user), token=token, stage=stage)


def waiting_for_code(engine: Engine, token: str | None) -> Account | None:
    """The user of a session whose password was right and whose MFA code is awaited."""
    if not token:
        return None
    found = stored_accounts.session_user(
        engine, _token_hash(token), now=moment(), lifetime=SESSION_LIFETIME, idle=idle_limit(),
        refresh_after=IDLE_REFRESH,
    )  # fmt: skip
    if found is None or found[2] != CODE_STAGE:
        return None
    return _account(found[0])


def check_code(engine: Engine, token: str | None, code: str, address: str) -> LoginResult:
    """The second step of a login: a TOTP code (each used once: a code of a time-step not
    later than the last one accepted for the user is refused), or a recovery code (used once,
    logged). A wrong or used code is a failed login for the limits, as a wrong password is;
    at a limit the waiting session ends and the password is asked again. Right: a new
    session (new token) replaces the waiting one. Blocking (argon2 for recovery codes):
    called off the loop."""
    account = waiting_for_code(engine, token)
    if account is None or token is None:
        return LoginResult(None)
    address = address[:64]
    now = moment()
    limit = over_limit(engine, account.username, address, now)
    if limit is not None:
        stored_accounts.end_user_session(engine, _token_hash(token))
        return LoginResult(None, rate_limited=True, limit=limit)
    secret = stored_accounts.mfa_secret_of(engine, account.id)
    step = None if secret is None else _totp_step(secret, code, now)
    # A right code of a step already used (a replay, or one typed twice) is refused as a
    # wrong one: it counts toward the limits and is in the access log as a failure.
    ok = step is not None and stored_accounts.accept_totp_step(engine, account.id, step)
    left: int | None = None
    if step is None and secret is not None:
        left = _use_recovery_code(engine, account, code, now, address)
        ok = left is not None
    if not ok:
        locked = _locks(engine, account.username, address, now)
        stored_accounts.record_failed_login(
            engine, account.username, address, at=now, known=True, locked=locked, step="code"
        )
        if locked:
            stored_accounts.end_user_session(engine, _token_hash(token))
        return LoginResult(
            None, rate_limited=locked, limit="account" if locked else None,
            reused=step is not None,
        )  # fmt: skip
    new_token = secrets.token_urlsafe(32)
    stored_accounts.open_session(
        engine,
        stored_accounts.find_user(engine, account.username),
        address=address,
        token_hash=_token_hash(new_token),
        csrf_token=secrets.token_urlsafe(32),
        at=now,
        expires_at=now + min(idle_limit(), SESSION_LIFETIME),
        replaces=_token_hash(token),
    )
    return LoginResult(account, token=new_token, recovery_left=left)


def _use_recovery_code(
    engine: Engine, account: Account, code: str, now: datetime, address: str
) -> int | None:
    """How many recovery codes are left after using ``code``; None when it is none of them."""
    typed = _recovery_form(code)
    if len(typed) != 10:
        return None
    unused = stored_accounts.unused_recovery_codes(engine, account.id)
    for code_id, code_hash in unused:
        try:
            _code_hasher.verify(code_hash, typed)
        except (VerificationError, InvalidHashError):
            continue
        if stored_accounts.use_recovery_code(
            engine, code_id, username=account.username, at=now, address=address
        ):
            return len(unused) - 1
        return None
    return None


def recovery_codes_left(engine: Engine, account: Account) -> int:
    return len(stored_accounts.unused_recovery_codes(engine, account.id))


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
    user, csrf_token, stage = found
    if stage is not None:  # the MFA code is still awaited: not logged in yet
        return None
    return ActiveSession(_account(user), csrf_token)


def log_out(engine: Engine, token: str | None) -> None:
    if token:
        stored_accounts.end_session(engine, _token_hash(token))


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
