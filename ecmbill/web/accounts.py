"""Web accounts: users with argon2id password hashes, server-side sessions, and a login rate
limit kept in the database. Used by the web app and by ``ecmbill users``.

A password is never stored, logged or put in an exception message: only its argon2id hash is
kept, and a session token is stored as its SHA-256.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ecmbill.store import audit, models
from ecmbill.store.db import unit_of_work

# argon2-cffi's defaults are argon2id with the RFC 9106 "low memory" profile.
_hasher = PasswordHasher()
# Verifying against a dummy hash when the user is unknown keeps the answer time the same, so
# the timing does not reveal which usernames exist.
_DUMMY_HASH = _hasher.hash("not a real password")

SESSION_LIFETIME = timedelta(hours=12)
LOGIN_WINDOW = timedelta(minutes=15)
MAX_FAILED_LOGINS = 5
MIN_PASSWORD_LENGTH = 10


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


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _account(user: models.User) -> Account:
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
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"password must be at least {MIN_PASSWORD_LENGTH} characters")
    if role is UserRole.STAFF and not staff_id:
        raise AccountError("a staff user needs the staff_id whose time they record")
    if role is UserRole.SUPERVISOR and not team:
        raise AccountError("a supervisor needs a team")
    with unit_of_work(engine) as session:
        if staff_id and session.get(models.Staff, staff_id) is None:
            raise AccountError("staff_id is not a known staff member: import staff first")
        if session.scalar(select(models.User.id).where(models.User.username == username)):
            raise AccountError("a user with that username exists already")
        now = audit.now()
        user = models.User(
            username=username,
            password_hash=hash_password(password),
            role=role.value,
            staff_id=staff_id or None,
            team=team or None,
            active=True,
            created_at=now,
        )
        session.add(user)
        try:
            session.flush()
        except IntegrityError:
            raise AccountError("a user with that username exists already") from None
        audit.record_change(
            session,
            actor=actor,
            at=now,
            action="create",
            entity="users",
            key=username,
            before=None,
            after={"role": role.value, "staff_id": staff_id, "team": team},
        )
        return _account(user)


def set_active(engine: Engine, username: str, active: bool, *, actor: str) -> None:
    """Let a user log in again, or stop them (their open sessions end at once)."""
    with unit_of_work(engine) as session:
        user = session.scalar(select(models.User).where(models.User.username == username))
        if user is None:
            raise AccountError("no user with that username")
        if user.active == active:
            return
        user.active = active
        if not active:
            session.execute(delete(models.WebSession).where(models.WebSession.user_id == user.id))
        audit.record_change(
            session,
            actor=actor,
            at=audit.now(),
            action="update",
            entity="users",
            key=username,
            before={"active": not active},
            after={"active": active},
        )


def list_users(engine: Engine) -> list[models.User]:
    with unit_of_work(engine) as session:
        return list(session.scalars(select(models.User).order_by(models.User.username)))


def team_staff_ids(engine: Engine, team: str | None) -> frozenset[str]:
    """The staff members whose users belong to a team."""
    if not team:
        return frozenset()
    with unit_of_work(engine) as session:
        return frozenset(
            sid
            for sid in session.scalars(
                select(models.User.staff_id).where(
                    models.User.team == team, models.User.staff_id.is_not(None)
                )
            )
            if sid
        )


def _failed_recently(session: Session, username: str, address: str, now: datetime) -> int:
    attempt = models.LoginAttempt
    return int(
        session.scalar(
            select(func.count()).where(
                attempt.username == username,
                attempt.address == address,
                attempt.at > now - LOGIN_WINDOW,
            )
        )
        or 0
    )


def log_in(engine: Engine, username: str, password: str, address: str) -> LoginResult:
    """Check a password; open a session when it is right. After ``MAX_FAILED_LOGINS`` failures
    for the same username and address within ``LOGIN_WINDOW`` every attempt is refused, even
    with the right password, until the window has passed."""
    username = username.strip().lower()[:64]
    address = address[:64]
    now = audit.now()
    with unit_of_work(engine) as session:
        if _failed_recently(session, username, address, now) >= MAX_FAILED_LOGINS:
            return LoginResult(None, rate_limited=True)
        user = session.scalar(select(models.User).where(models.User.username == username))
        try:
            _hasher.verify(user.password_hash if user else _DUMMY_HASH, password)
            ok = user is not None and user.active
        except (VerificationError, InvalidHashError):
            ok = False
        if not ok or user is None:
            session.add(models.LoginAttempt(username=username, address=address, at=now))
            return LoginResult(None)
        if _hasher.check_needs_rehash(user.password_hash):
            user.password_hash = hash_password(password)
        session.execute(
            delete(models.LoginAttempt).where(
                models.LoginAttempt.username == username, models.LoginAttempt.address == address
            )
        )
        # Expired sessions are of no use to anyone: tidy them while here.
        session.execute(delete(models.WebSession).where(models.WebSession.expires_at <= now))
        token = secrets.token_urlsafe(32)
        session.add(
            models.WebSession(
                token_hash=_token_hash(token),
                user_id=user.id,
                csrf_token=secrets.token_urlsafe(32),
                created_at=now,
                expires_at=now + SESSION_LIFETIME,
            )
        )
        return LoginResult(_account(user), token=token)


@dataclass(frozen=True)
class ActiveSession:
    account: Account
    csrf_token: str


def session_for(engine: Engine, token: str | None) -> ActiveSession | None:
    if not token:
        return None
    with unit_of_work(engine) as session:
        found = session.get(models.WebSession, _token_hash(token))
        if found is None:
            return None
        expires = found.expires_at
        if expires.tzinfo is None:  # SQLite returns naive datetimes (stored as UTC)
            expires = expires.replace(tzinfo=audit.now().tzinfo)
        if expires <= audit.now():
            session.delete(found)
            return None
        user = session.get(models.User, found.user_id)
        if user is None or not user.active:
            return None
        return ActiveSession(_account(user), found.csrf_token)


def log_out(engine: Engine, token: str | None) -> None:
    if not token:
        return
    with unit_of_work(engine) as session:
        session.execute(
            delete(models.WebSession).where(models.WebSession.token_hash == _token_hash(token))
        )


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
