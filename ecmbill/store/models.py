"""Tables. Column names follow the import file layouts, so the rating expression reads the
stored tables and plain files alike."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Staff(Base):
    __tablename__ = "staff"

    staff_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    npi: Mapped[str | None] = mapped_column(String(10))


class StaffRole(Base):
    """A staff member's role over a span of dates; a role change is a new row."""

    __tablename__ = "staff_roles"
    __table_args__ = (UniqueConstraint("staff_id", "effective_from"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    staff_id: Mapped[str] = mapped_column(ForeignKey("staff.staff_id"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    effective_from: Mapped[date | None] = mapped_column(Date)
    effective_to: Mapped[date | None] = mapped_column(Date)


class Member(Base):
    __tablename__ = "members"

    member_id: Mapped[str] = mapped_column(String(9), primary_key=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    birth_date: Mapped[date] = mapped_column(Date)


class Eligibility(Base):
    """Current Medi-Cal eligibility per member and month; earlier values live in the audit log."""

    __tablename__ = "eligibility"

    member_id: Mapped[str] = mapped_column(ForeignKey("members.member_id"), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    eligible: Mapped[bool] = mapped_column(Boolean)


class Enrollment(Base):
    __tablename__ = "enrollments"
    __table_args__ = (UniqueConstraint("member_id", "start_date"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.member_id"), index=True)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)


class TimeEntry(Base):
    __tablename__ = "time_entries"
    __table_args__ = (Index("ix_time_entries_member_date", "member_id", "date"),)

    entry_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[str] = mapped_column(ForeignKey("staff.staff_id"), index=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.member_id"))
    date: Mapped[date] = mapped_column(Date, index=True)
    minutes: Mapped[int] = mapped_column(Integer)
    start_time: Mapped[str | None] = mapped_column(String(5))
    end_time: Mapped[str | None] = mapped_column(String(5))
    activity: Mapped[str] = mapped_column(String(64))
    modality: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)
    import_batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))


class OutreachAttempt(Base):
    __tablename__ = "outreach_attempts"
    __table_args__ = (Index("ix_outreach_attempts_member_date", "member_id", "date"),)

    attempt_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[str] = mapped_column(ForeignKey("staff.staff_id"), index=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.member_id"))
    date: Mapped[date] = mapped_column(Date, index=True)
    method: Mapped[str] = mapped_column(String(20))
    individualized: Mapped[bool] = mapped_column(Boolean)
    outcome: Mapped[str] = mapped_column(String(20))
    minutes: Mapped[int | None] = mapped_column(Integer)
    import_batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))


class MemberStatusEvent(Base):
    """A reported change of a member's ECM status (e.g. unable to reach), with its date."""

    __tablename__ = "member_status_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.member_id"), index=True)
    status: Mapped[str] = mapped_column(String(32))
    on: Mapped[date] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ImportBatch(Base):
    __tablename__ = "import_batches"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    file_name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(100))
    rows_read: Mapped[int] = mapped_column(Integer)
    accepted: Mapped[int] = mapped_column(Integer)
    rejected: Mapped[int] = mapped_column(Integer)
    changed: Mapped[int] = mapped_column(Integer)


class AuditRecord(Base):
    """Append-only: the migration installs triggers that refuse UPDATE and DELETE."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity", "entity", "entity_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(10))
    entity: Mapped[str] = mapped_column(String(40))
    entity_key: Mapped[str] = mapped_column(String(120))
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)


class Setting(Base):
    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


# --- Plan data exchange (issue 6): what the plan's files say about a member, and who leads
# their care. Kept in their own tables so the foundation's tables stay as the rating reads them.


class MemberDetail(Base):
    """What the plan's Member Information File says about a member (one row, the latest);
    earlier values live in the audit log."""

    __tablename__ = "member_details"

    member_id: Mapped[str] = mapped_column(ForeignKey("members.member_id"), primary_key=True)
    address: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[str | None] = mapped_column(String(2))
    zip: Mapped[str | None] = mapped_column(String(10))
    phone: Mapped[str | None] = mapped_column(String(20))
    homeless: Mapped[bool | None] = mapped_column(Boolean)
    population_of_focus: Mapped[str | None] = mapped_column(String(200))
    assignment_date: Mapped[date] = mapped_column(Date)
    plan_id: Mapped[str] = mapped_column(String(64))


class LeadCareManager(Base):
    """The staff member leading a member's care over a span of dates; a change is a new row."""

    __tablename__ = "lead_care_managers"
    __table_args__ = (UniqueConstraint("member_id", "start_date"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.member_id"), index=True)
    staff_id: Mapped[str] = mapped_column(ForeignKey("staff.staff_id"))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)


class StaffContact(Base):
    """How the plan reaches a lead care manager (shown on the Return Transmission File)."""

    __tablename__ = "staff_contacts"

    staff_id: Mapped[str] = mapped_column(ForeignKey("staff.staff_id"), primary_key=True)
    phone: Mapped[str | None] = mapped_column(String(20))
    email: Mapped[str | None] = mapped_column(String(200))


class RerateMark(Base):
    """A member's month whose billing changed after the fact (eligibility arrived, or ended,
    retroactively): it must be rated again, and any claim for it replaced or voided."""

    __tablename__ = "rerate_marks"
    __table_args__ = (Index("ix_rerate_marks_member_month", "member_id", "month"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.member_id"))
    month: Mapped[str] = mapped_column(String(7))
    reason: Mapped[str] = mapped_column(Text)
    marked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    import_batch_id: Mapped[int | None] = mapped_column(ForeignKey("import_batches.id"))
