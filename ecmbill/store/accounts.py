"""The stored side of web accounts: users, logged-in sessions and failed login attempts.

The rules (password strength, hashing, the rate limit, session lifetime) live in
``ecmbill.web.accounts``; these functions only read and write what it decided. A session is
found by the SHA-256 of its token, never by the token itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete, func, or_, select, union
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql import ColumnElement

from ecmbill.store import audit, models
from ecmbill.store.db import unit_of_work


@dataclass(frozen=True)
class StoredUser:
    """A user as stored, without the password hash."""

    id: int
    username: str
    role: str
    staff_id: str | None
    team: str | None
    active: bool


@dataclass(frozen=True)
class LoginCandidate:
    """A user about to be checked against a typed password."""

    user: StoredUser
    password_hash: str


class UnknownStaff(LookupError):
    pass


class UsernameTaken(ValueError):
    pass


class NoSuchUser(LookupError):
    pass


def _stored(user: models.User) -> StoredUser:
    return StoredUser(user.id, user.username, user.role, user.staff_id, user.team, user.active)


def create_user(
    engine: Engine,
    *,
    username: str,
    password_hash: str,
    role: str,
    staff_id: str | None,
    team: str | None,
    actor: str,
) -> StoredUser:
    """Add an active user (audited). Raises ``UnknownStaff`` or ``UsernameTaken``."""
    with unit_of_work(engine) as session:
        if staff_id and session.get(models.Staff, staff_id) is None:
            raise UnknownStaff(staff_id)
        if session.scalar(select(models.User.id).where(models.User.username == username)):
            raise UsernameTaken(username)
        now = audit.now()
        user = models.User(
            username=username,
            password_hash=password_hash,
            role=role,
            staff_id=staff_id or None,
            team=team or None,
            active=True,
            created_at=now,
        )
        session.add(user)
        try:
            session.flush()
        except IntegrityError:
            # Another request added the same username between the check and the insert.
            raise UsernameTaken(username) from None
        audit.record_change(
            session,
            actor=actor,
            at=now,
            action="create",
            entity="users",
            key=username,
            before=None,
            after={"role": role, "staff_id": staff_id, "team": team},
        )
        return _stored(user)


def set_user_active(engine: Engine, username: str, active: bool, *, actor: str) -> None:
    """Let a user log in again, or stop them: their open sessions end at once (audited).
    Raises ``NoSuchUser``."""
    with unit_of_work(engine) as session:
        user = session.scalar(select(models.User).where(models.User.username == username))
        if user is None:
            raise NoSuchUser(username)
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


def list_users(engine: Engine) -> list[StoredUser]:
    with unit_of_work(engine) as session:
        return [
            _stored(user)
            for user in session.scalars(select(models.User).order_by(models.User.username))
        ]


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


def failed_logins(engine: Engine, username: str, address: str, *, since: datetime) -> int:
    attempt = models.LoginAttempt
    with unit_of_work(engine) as session:
        return int(
            session.scalar(
                select(func.count()).where(
                    attempt.username == username,
                    attempt.address == address,
                    attempt.at > since,
                )
            )
            or 0
        )


@dataclass(frozen=True)
class FailedCounts:
    pair: int  # this username from this address
    account: int  # this username from anywhere
    address: int  # this address, any username
    overall: int  # everyone, in the shorter overall window


def failed_login_counts(
    engine: Engine, username: str, address: str, *, since: datetime, overall_since: datetime
) -> FailedCounts:
    attempt = models.LoginAttempt
    recent = attempt.at > since

    def count(*conditions: Any) -> int:
        return int(session.scalar(select(func.count()).where(*conditions)) or 0)

    with unit_of_work(engine) as session:
        return FailedCounts(
            pair=count(attempt.username == username, attempt.address == address, recent),
            account=count(attempt.username == username, recent),
            address=count(attempt.address == address, recent),
            overall=count(attempt.at > overall_since),
        )


# The access log: entries of the append-only audit trail under this entity, keyed by username.
ACCESS = "access"


def record_access(
    session: Session, *, username: str, action: str, at: datetime, **details: Any
) -> None:
    """One access-log entry (login, failed, locked, logout, password, download, view,
    glass): who, when, from where, what; never a password, a note or a clinical value."""
    audit.record_change(
        session, actor=f"web:{username}", at=at, action=action, entity=ACCESS, key=username,
        after=details or None,
    )  # fmt: skip


def log_access(engine: Engine, *, username: str, action: str, **details: Any) -> None:
    with unit_of_work(engine) as session:
        record_access(session, username=username, action=action, at=audit.now(), **details)


def record_failed_login(
    engine: Engine, username: str, address: str, *, at: datetime, known: bool, locked: bool
) -> None:
    """A failed attempt, kept for the limits, and in the access log under the username when
    it is a user's (a typed name that is no user's may be a password in the wrong box)."""
    with unit_of_work(engine) as session:
        session.add(models.LoginAttempt(username=username, address=address, at=at))
        record_access(
            session, username=username if known else "(unknown)",
            action="locked" if locked else "failed", at=at, address=address,
        )  # fmt: skip


def login_candidate(engine: Engine, username: str) -> LoginCandidate | None:
    with unit_of_work(engine) as session:
        user = session.scalar(select(models.User).where(models.User.username == username))
        return None if user is None else LoginCandidate(_stored(user), user.password_hash)


def open_session(
    engine: Engine,
    user: StoredUser,
    *,
    address: str,
    token_hash: str,
    csrf_token: str,
    at: datetime,
    expires_at: datetime,
    new_password_hash: str | None = None,
) -> None:
    """Start a session after a successful login (in the access log): the user's failed
    attempts from that address no longer count against the limit (the access log keeps them),
    and a password hash made with older settings is replaced."""
    with unit_of_work(engine) as session:
        record_access(session, username=user.username, action="login", at=at, address=address)
        if new_password_hash is not None:
            stored = session.get(models.User, user.id)
            if stored is not None:
                stored.password_hash = new_password_hash
        session.execute(
            delete(models.LoginAttempt).where(
                models.LoginAttempt.username == user.username,
                models.LoginAttempt.address == address,
            )
        )
        # Expired sessions are of no use to anyone: tidy them while here.
        session.execute(delete(models.WebSession).where(models.WebSession.expires_at <= at))
        session.add(
            models.WebSession(
                token_hash=token_hash,
                user_id=user.id,
                csrf_token=csrf_token,
                created_at=at,
                expires_at=expires_at,
            )
        )


def session_user(
    engine: Engine,
    token_hash: str,
    *,
    now: datetime,
    lifetime: timedelta,
    idle: timedelta,
    refresh_after: timedelta,
) -> tuple[StoredUser, str] | None:
    """The active user of an unexpired session, with the session's CSRF token. An expired
    session is deleted on sight. ``expires_at`` is the idle end: when it is more than
    ``refresh_after`` behind ``now + idle`` it is moved there, never past ``lifetime`` from
    the login (so a busy session writes once a minute, not once a request)."""
    with unit_of_work(engine) as session:
        found = session.get(models.WebSession, token_hash)
        if found is None:
            return None
        expires, created = _aware(found.expires_at, now), _aware(found.created_at, now)
        if expires <= now or created + lifetime <= now:
            session.delete(found)
            return None
        user = session.get(models.User, found.user_id)
        if user is None or not user.active:
            return None
        wanted = min(now + idle, created + lifetime)
        if wanted - expires >= refresh_after:
            found.expires_at = wanted
        return _stored(user), found.csrf_token


def _aware(moment: datetime, now: datetime) -> datetime:
    """SQLite returns naive datetimes (stored as UTC)."""
    return moment.replace(tzinfo=now.tzinfo) if moment.tzinfo is None else moment


def end_session(engine: Engine, token_hash: str) -> None:
    """Log out (in the access log)."""
    with unit_of_work(engine) as session:
        found = session.get(models.WebSession, token_hash)
        user = session.get(models.User, found.user_id) if found is not None else None
        if user is not None:
            record_access(session, username=user.username, action="logout", at=audit.now())
        session.execute(delete(models.WebSession).where(models.WebSession.token_hash == token_hash))


# --- Record-level scope ("minimum necessary"): the SQL behind ``ecmbill.web.accounts``'s
# ``visible_staff`` / ``visible_members``; the rule of who sees whom lives there.


def caseload_member_ids(
    engine: Engine, staff_ids: frozenset[str], *, since: date, today: date
) -> frozenset[str]:
    """The members one of ``staff_ids`` leads today (a lead span reaching ``today``) or has
    recorded time with on or after ``since``."""
    if not staff_ids:
        return frozenset()
    lead, entry = models.LeadCareManager, models.TimeEntry
    led = select(lead.member_id).where(
        lead.staff_id.in_(staff_ids),
        lead.start_date <= today,
        or_(lead.end_date.is_(None), lead.end_date >= today),
    )
    timed = select(entry.member_id).where(entry.staff_id.in_(staff_ids), entry.date >= since)
    with unit_of_work(engine) as session:
        return frozenset(session.execute(union(led, timed)).scalars())


def usernames_of(engine: Engine, staff_ids: frozenset[str], team: str | None) -> frozenset[str]:
    """The users of a team, or linked to one of ``staff_ids``."""
    user = models.User
    conditions: list[ColumnElement[bool]] = [user.staff_id.in_(staff_ids)] if staff_ids else []
    if team:
        conditions.append(user.team == team)
    if not conditions:
        return frozenset()
    with unit_of_work(engine) as session:
        return frozenset(session.scalars(select(user.username).where(or_(*conditions))))
