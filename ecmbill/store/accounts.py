"""The stored side of web accounts: users, logged-in sessions and failed login attempts.

The rules (password strength, hashing, the rate limit, session lifetime) live in
``ecmbill.web.accounts``; these functions only read and write what it decided. A session is
found by the SHA-256 of its token, never by the token itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, delete, func, or_, select, union, update
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
    mfa_enrolled: bool = False
    must_change_password: bool = False


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
    return StoredUser(
        user.id, user.username, user.role, user.staff_id, user.team, user.active,
        mfa_enrolled=user.mfa_secret is not None,
        must_change_password=bool(user.must_change_password),
    )  # fmt: skip


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
    engine: Engine,
    username: str,
    address: str,
    *,
    at: datetime,
    known: bool,
    locked: bool,
    step: str | None = None,
) -> None:
    """A failed attempt, kept for the limits, and in the access log under the username when
    it is a user's (a typed name that is no user's may be a password in the wrong box).
    ``step="code"``: a wrong MFA code after the right password, which counts the same."""
    details = {"address": address} | ({"step": step} if step else {})
    with unit_of_work(engine) as session:
        session.add(models.LoginAttempt(username=username, address=address, at=at))
        record_access(
            session, username=username if known else "(unknown)",
            action="locked" if locked else "failed", at=at, **details,
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
    stage: str | None = None,
    replaces: str | None = None,
) -> None:
    """Start a session after a successful login (in the access log): the user's failed
    attempts from that address no longer count against the limit (the access log keeps them),
    and a password hash made with older settings is replaced. A ``stage="code"`` session
    (password right, MFA code awaited) is neither logged as a login nor clears the failures:
    that waits for the code. ``replaces``: the token hash of the waiting session it ends."""
    with unit_of_work(engine) as session:
        if replaces is not None:
            session.execute(
                delete(models.WebSession).where(models.WebSession.token_hash == replaces)
            )
        if new_password_hash is not None:
            stored = session.get(models.User, user.id)
            if stored is not None:
                stored.password_hash = new_password_hash
        if stage is None:
            record_access(session, username=user.username, action="login", at=at, address=address)
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
                stage=stage,
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
) -> tuple[StoredUser, str, str | None] | None:
    """The active user of an unexpired session, with the session's CSRF token. An expired
    session is deleted on sight. ``expires_at`` is the idle end: when it is more than
    ``refresh_after`` behind ``now + idle`` it is moved there, never past ``lifetime`` from
    the login (so a busy session writes once a minute, not once a request). The third value
    is the session's stage (None once fully logged in; "code" while the MFA code is awaited,
    whose end is never moved)."""
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
        if found.stage is None and wanted - expires >= refresh_after:
            found.expires_at = wanted
        return _stored(user), found.csrf_token, found.stage


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


# --- Changing accounts: role and team, passwords, MFA. Each change is audited under the
# entity "users"; none keeps a password, a hash, a secret or a code in the trail.


def _user(session: Session, username: str) -> models.User:
    user = session.scalar(select(models.User).where(models.User.username == username))
    if user is None:
        raise NoSuchUser(username)
    return user


def _end_sessions(session: Session, user_id: int, *, keep: str | None = None) -> None:
    ended = delete(models.WebSession).where(models.WebSession.user_id == user_id)
    if keep is not None:
        ended = ended.where(models.WebSession.token_hash != keep)
    session.execute(ended)


def find_user(engine: Engine, username: str) -> StoredUser:
    """Raises ``NoSuchUser``."""
    with unit_of_work(engine) as session:
        return _stored(_user(session, username))


def update_user(
    engine: Engine,
    username: str,
    *,
    role: str,
    staff_id: str | None,
    team: str | None,
    actor: str,
) -> StoredUser:
    """Change a user's role, staff member and team (audited, before and after). Raises
    ``NoSuchUser`` or ``UnknownStaff``."""
    with unit_of_work(engine) as session:
        user = _user(session, username)
        if staff_id and session.get(models.Staff, staff_id) is None:
            raise UnknownStaff(staff_id)
        before = {"role": user.role, "staff_id": user.staff_id, "team": user.team}
        after = {"role": role, "staff_id": staff_id or None, "team": team or None}
        if before != after:
            user.role, user.staff_id, user.team = role, staff_id or None, team or None
            audit.record_change(
                session, actor=actor, at=audit.now(), action="update", entity="users",
                key=username, before=before, after=after,
            )  # fmt: skip
        return _stored(user)


def password_hash_of(engine: Engine, user_id: int) -> str | None:
    with unit_of_work(engine) as session:
        user = session.get(models.User, user_id)
        return None if user is None else user.password_hash


def set_password(
    engine: Engine,
    username: str,
    password_hash: str,
    *,
    must_change: bool,
    actor: str,
    keep_session: str | None = None,
) -> None:
    """A new password: by an admin's reset (``must_change``: the user changes it at the next
    login) or by the user (in the access log too). Every session of the user ends but
    ``keep_session`` (the token hash of the user's own, when they changed it themselves).
    Raises ``NoSuchUser``."""
    with unit_of_work(engine) as session:
        user = _user(session, username)
        user.password_hash = password_hash
        user.must_change_password = must_change
        _end_sessions(session, user.id, keep=keep_session)
        now = audit.now()
        audit.record_change(
            session, actor=actor, at=now, action="pw_reset" if must_change else "password",
            entity="users", key=username, after={"must_change_password": must_change},
        )  # fmt: skip
        if not must_change:
            record_access(session, username=username, action="password", at=now)


def mfa_secret_of(engine: Engine, user_id: int) -> str | None:
    with unit_of_work(engine) as session:
        user = session.get(models.User, user_id)
        return None if user is None else user.mfa_secret


def enrol_mfa(
    engine: Engine,
    username: str,
    secret: str,
    code_hashes: list[str],
    *,
    actor: str,
    step: int | None = None,
) -> None:
    """Keep a confirmed TOTP secret and the hashes of new recovery codes (old ones go);
    ``step``: the time-step of the code that confirmed it, which no login may use again.
    Raises ``NoSuchUser``."""
    with unit_of_work(engine) as session:
        user = _user(session, username)
        user.mfa_secret = secret
        user.totp_last_step = step
        session.execute(delete(models.RecoveryCode).where(models.RecoveryCode.user_id == user.id))
        session.add_all(models.RecoveryCode(user_id=user.id, code_hash=h) for h in code_hashes)
        audit.record_change(
            session, actor=actor, at=audit.now(), action="mfa_enrol", entity="users",
            key=username, after={"recovery_codes": len(code_hashes)},
        )  # fmt: skip


def reset_mfa(engine: Engine, username: str, *, actor: str) -> None:
    """An admin's reset of a user's MFA: secret and recovery codes gone, sessions ended; an
    admin or biller enrols again at the next login. Raises ``NoSuchUser``."""
    with unit_of_work(engine) as session:
        user = _user(session, username)
        had = user.mfa_secret is not None
        user.mfa_secret = None
        user.totp_last_step = None
        session.execute(delete(models.RecoveryCode).where(models.RecoveryCode.user_id == user.id))
        _end_sessions(session, user.id)
        audit.record_change(
            session, actor=actor, at=audit.now(), action="mfa_reset", entity="users",
            key=username, before={"mfa": had}, after={"mfa": False},
        )  # fmt: skip


def accept_totp_step(engine: Engine, user_id: int, step: int) -> bool:
    """Record ``step`` as the user's last accepted TOTP time-step, only if it is later than
    the one recorded: False when it is not (a code used again, or an earlier one). One
    conditional UPDATE: of two logins sending the same code at once, one wins (the other's
    UPDATE waits for the first to commit, then finds the step taken)."""
    user = models.User
    with unit_of_work(engine) as session:
        taken = session.execute(
            update(user)
            .where(
                user.id == user_id,
                or_(user.totp_last_step.is_(None), user.totp_last_step < step),
            )
            .values(totp_last_step=step)
        )
        return bool(getattr(taken, "rowcount", 0))


def unused_recovery_codes(engine: Engine, user_id: int) -> list[tuple[int, str]]:
    """(id, hash) of a user's recovery codes not yet used."""
    code = models.RecoveryCode
    with unit_of_work(engine) as session:
        return [
            (row.id, row.code_hash)
            for row in session.execute(
                select(code.id, code.code_hash).where(
                    code.user_id == user_id, code.used_at.is_(None)
                )
            )
        ]


def use_recovery_code(
    engine: Engine, code_id: int, *, username: str, at: datetime, address: str
) -> bool:
    """Mark a recovery code used (in the access log, with how many are left); False when it
    was used meanwhile (two logins racing with the same code: one wins)."""
    code = models.RecoveryCode
    with unit_of_work(engine) as session:
        marked = session.execute(
            update(code).where(code.id == code_id, code.used_at.is_(None)).values(used_at=at)
        )
        if not getattr(marked, "rowcount", 0):
            return False
        user_id = session.scalar(select(code.user_id).where(code.id == code_id))
        left = session.scalar(
            select(func.count()).where(code.user_id == user_id, code.used_at.is_(None))
        )
        record_access(
            session, username=username, action="recovery", at=at, address=address,
            left=int(left or 0),
        )  # fmt: skip
        return True


def end_user_session(engine: Engine, token_hash: str) -> None:
    """End one session without a logout entry (a waiting MFA session refused by a limit)."""
    with unit_of_work(engine) as session:
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
