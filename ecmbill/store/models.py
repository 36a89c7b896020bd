"""Tables. Column names follow the import file layouts, so the rating expression reads the
stored tables and plain files alike."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from ecmbill.domain.plans import DEFAULT_PLAN

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
    __table_args__ = (
        UniqueConstraint("staff_id", "effective_from"),
        # NULL effective_from ("since always") escapes the constraint above: at most one.
        Index(
            "uq_staff_roles_open_start",
            "staff_id",
            unique=True,
            sqlite_where=text("effective_from IS NULL"),
            postgresql_where=text("effective_from IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    staff_id: Mapped[str] = mapped_column(ForeignKey("staff.staff_id"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    effective_from: Mapped[date | None] = mapped_column(Date)
    effective_to: Mapped[date | None] = mapped_column(Date)


class Member(Base):
    """A member, with what a claim needs of them: the 837P names the subscriber's residential
    address (2010BA N3/N4) and sex (DMG03) as the plan last sent them (the Member Information
    File, the 834, or the members import's optional columns); empty until one of them does."""

    __tablename__ = "members"

    member_id: Mapped[str] = mapped_column(String(9), primary_key=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    birth_date: Mapped[date] = mapped_column(Date)
    address: Mapped[str | None] = mapped_column(String(200))
    city: Mapped[str | None] = mapped_column(String(100))
    state: Mapped[str | None] = mapped_column(String(2))
    zip: Mapped[str | None] = mapped_column(String(10))
    sex: Mapped[str | None] = mapped_column(String(1))  # F, M or U, as DMG03


class Eligibility(Base):
    """Current Medi-Cal eligibility per member and month; earlier values live in the audit log."""

    __tablename__ = "eligibility"

    member_id: Mapped[str] = mapped_column(ForeignKey("members.member_id"), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)
    # Each plan's files speak for that plan: one plan's "not eligible" never overwrites
    # another's "eligible" for a member who changed plan.
    plan: Mapped[str] = mapped_column(
        ForeignKey("plans.key"), primary_key=True, server_default=DEFAULT_PLAN
    )
    eligible: Mapped[bool] = mapped_column(Boolean)


class Plan(Base):
    """A health plan the office bills: its contract (null: the office's contract, as stored
    with ``ecmbill contract set``) and the payer settings that differ from the claim settings
    (JSON; empty for the first plan, whose payer is the claim settings' payer)."""

    __tablename__ = "plans"

    key: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    position: Mapped[int] = mapped_column(Integer, unique=True)
    contract_toml: Mapped[str | None] = mapped_column(Text)
    payer_settings: Mapped[str] = mapped_column(Text, server_default="{}")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PlanAssignment(Base):
    """A member's plan from ``start_date`` to ``end_date`` (null: still running). Spans of one
    member never overlap (a database trigger refuses it, as for enrollments)."""

    __tablename__ = "plan_assignments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.member_id"), index=True)
    plan: Mapped[str] = mapped_column(ForeignKey("plans.key"))
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)


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
    attempt_time: Mapped[str | None] = mapped_column(String(5))


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
    # Why, when the person gave a reason (a correction, a deletion).
    reason: Mapped[str | None] = mapped_column(Text)


class Setting(Base):
    __tablename__ = "settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


# Claims (issue 4). Provider and payer settings live in ``settings`` under the "claims." prefix.


class PeriodClose(Base):
    """A close of a billing period. The first one locks the period: time and outreach changes
    recorded in the audit log after it are flagged as after-close."""

    __tablename__ = "period_closes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period: Mapped[str] = mapped_column(String(7), index=True)
    closed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(100))
    claims_created: Mapped[int] = mapped_column(Integer)


class Claim(Base):
    """One billing provider × member × period claim, or a replacement or void of one.

    status: ``active`` (the member's claim as it stands), ``replaced`` or ``voided`` (a later
    claim corrected it), ``void`` (a frequency-8 claim itself)."""

    __tablename__ = "claims"
    __table_args__ = (Index("ix_claims_period_member", "period", "member_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period: Mapped[str] = mapped_column(String(7))
    member_id: Mapped[str] = mapped_column(ForeignKey("members.member_id"))
    billing_npi: Mapped[str] = mapped_column(String(10))
    frequency: Mapped[str] = mapped_column(String(1))
    status: Mapped[str] = mapped_column(String(10))
    patient_control_number: Mapped[str] = mapped_column(String(20), unique=True)
    payer_claim_control_number: Mapped[str | None] = mapped_column(String(50))
    corrects_claim_id: Mapped[int | None] = mapped_column(ForeignKey("claims.id"))
    original_reference: Mapped[str | None] = mapped_column(String(50))
    total_charge: Mapped[Decimal] = mapped_column(Numeric(12, 2, asdecimal=True))
    # The plan billed; a replacement or void goes to the plan of the claim it corrects.
    plan: Mapped[str] = mapped_column(ForeignKey("plans.key"), server_default=DEFAULT_PLAN)
    diagnosis_code: Mapped[str] = mapped_column(String(8))
    place_of_service: Mapped[str] = mapped_column(String(2))
    close_id: Mapped[int] = mapped_column(ForeignKey("period_closes.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ClaimLineRecord(Base):
    __tablename__ = "claim_lines"
    __table_args__ = (UniqueConstraint("claim_id", "line_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"), index=True)
    line_number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(10))
    code: Mapped[str] = mapped_column(String(5))
    modifiers: Mapped[str] = mapped_column(String(11))  # space-separated, in order
    units: Mapped[int] = mapped_column(Integer)
    charge: Mapped[Decimal] = mapped_column(Numeric(12, 2, asdecimal=True))
    first_date: Mapped[date] = mapped_column(Date)
    last_date: Mapped[date] = mapped_column(Date)
    minutes: Mapped[int] = mapped_column(Integer)
    source_ids: Mapped[str] = mapped_column(Text)  # JSON list of time entry / attempt ids
    rendering_npi: Mapped[str | None] = mapped_column(String(10))


class ClaimExport(Base):
    """A claim written to a file; an export takes only claims not yet written in its format."""

    __tablename__ = "claim_exports"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"), index=True)
    format: Mapped[str] = mapped_column(String(8))
    file_name: Mapped[str] = mapped_column(String(255))
    interchange_control_number: Mapped[int | None] = mapped_column(Integer)
    # GS06 and ST02 of the 837P that carried the claim: a 999 names the file by them.
    group_control_number: Mapped[int | None] = mapped_column(Integer)
    transaction_control_number: Mapped[int | None] = mapped_column(Integer)
    exported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(100))


class ProducedFile(Base):
    """A file ecmbill produced for the payer or the plan (837P, invoice, OTF, RTF), its bytes
    kept as delivered: a lost file or an auditor's request is met with the very same file,
    its SHA-256 showing it is."""

    __tablename__ = "produced_files"
    __table_args__ = (Index("ix_produced_files_period_kind", "period", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))  # 837p, csv, xlsx, otf, rtf
    period: Mapped[str] = mapped_column(String(7))
    file_name: Mapped[str] = mapped_column(String(255))
    produced_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor: Mapped[str] = mapped_column(String(100))
    # Claims in an 837P or invoice, rows in a tracker file.
    records: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    content: Mapped[bytes] = mapped_column(LargeBinary)


class ControlCounter(Base):
    """X12 control numbers and claim numbers: each only ever increases (see claims.store)."""

    __tablename__ = "control_counters"

    name: Mapped[str] = mapped_column(String(20), primary_key=True)
    value: Mapped[int] = mapped_column(Integer)


# Remittances (issue 5): one row per 835 transaction, its claim and line answers, adjustments.


class Remittance(Base):
    """One 835 transaction set, identified by its trace number (TRN02) and payer (TRN03)."""

    __tablename__ = "remittances"
    __table_args__ = (UniqueConstraint("trace_number", "payer_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trace_number: Mapped[str] = mapped_column(String(50))
    payer_id: Mapped[str] = mapped_column(String(50))
    payer_name: Mapped[str] = mapped_column(String(60))
    payment_amount: Mapped[Decimal] = mapped_column(Numeric(12, 2, asdecimal=True))
    payment_method: Mapped[str] = mapped_column(String(3))
    payment_date: Mapped[date] = mapped_column(Date)
    file_name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(100))


class RemitClaim(Base):
    """A CLP: the payer's answer about one claim. ``claim_id`` is empty when CLP01 names no
    claim of ours: listed as unmatched, never dropped."""

    __tablename__ = "remit_claims"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    remittance_id: Mapped[int] = mapped_column(ForeignKey("remittances.id"), index=True)
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("claims.id"), index=True)
    patient_control_number: Mapped[str] = mapped_column(String(38))
    status_code: Mapped[str] = mapped_column(String(2))
    charge: Mapped[Decimal] = mapped_column(Numeric(12, 2, asdecimal=True))
    paid: Mapped[Decimal] = mapped_column(Numeric(12, 2, asdecimal=True))
    patient_responsibility: Mapped[Decimal] = mapped_column(Numeric(12, 2, asdecimal=True))
    payer_claim_control_number: Mapped[str | None] = mapped_column(String(50))
    remarks: Mapped[str] = mapped_column(String(200))  # space-separated RARCs (MOA)
    segment: Mapped[int] = mapped_column(Integer)


class RemitLine(Base):
    """An SVC matched to one of our claim lines (exact or inferred) or unmatched."""

    __tablename__ = "remit_lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    remit_claim_id: Mapped[int] = mapped_column(ForeignKey("remit_claims.id"), index=True)
    claim_line_id: Mapped[int | None] = mapped_column(ForeignKey("claim_lines.id"), index=True)
    match: Mapped[str] = mapped_column(String(10))
    code: Mapped[str] = mapped_column(String(48))
    modifiers: Mapped[str] = mapped_column(String(11))
    charge: Mapped[Decimal] = mapped_column(Numeric(12, 2, asdecimal=True))
    paid: Mapped[Decimal] = mapped_column(Numeric(12, 2, asdecimal=True))
    units: Mapped[int | None] = mapped_column(Integer)
    first_date: Mapped[date | None] = mapped_column(Date)
    last_date: Mapped[date | None] = mapped_column(Date)
    remarks: Mapped[str] = mapped_column(String(200))  # space-separated RARCs (LQ*HE)
    segment: Mapped[int] = mapped_column(Integer)


class RemitAdjustment(Base):
    """A CAS reason at claim level (``remit_line_id`` empty) or line level."""

    __tablename__ = "remit_adjustments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    remit_claim_id: Mapped[int] = mapped_column(ForeignKey("remit_claims.id"), index=True)
    remit_line_id: Mapped[int | None] = mapped_column(ForeignKey("remit_lines.id"))
    group_code: Mapped[str] = mapped_column(String(2))
    reason_code: Mapped[str] = mapped_column(String(5))
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2, asdecimal=True))
    quantity: Mapped[Decimal | None] = mapped_column(Numeric(15, 2, asdecimal=True))


class RemittanceWarning(Base):
    """A fault of the 835 that broke a TR3 rule without touching the money: the remittance
    was posted, and the warning stays with it (``ecmbill.remit.levels``)."""

    __tablename__ = "remittance_warnings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    remittance_id: Mapped[int] = mapped_column(ForeignKey("remittances.id"), index=True)
    fault: Mapped[str] = mapped_column(String(30))
    message: Mapped[str] = mapped_column(Text)


class ProviderAdjustmentRecord(Base):
    """A PLB: provider-level adjustment (positive reduces the payment)."""

    __tablename__ = "provider_adjustments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    remittance_id: Mapped[int] = mapped_column(ForeignKey("remittances.id"), index=True)
    provider_id: Mapped[str] = mapped_column(String(50))
    fiscal_date: Mapped[date] = mapped_column(Date)
    reason_code: Mapped[str] = mapped_column(String(2))
    reference: Mapped[str | None] = mapped_column(String(50))
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2, asdecimal=True))


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


# --- The payer's acknowledgments (issue 18): 999 (per file) and 277CA (per claim).


class AckInterchange(Base):
    """One 999, 277CA or 271 interchange as imported; the same one again (same sender and
    ISA13, or the same bytes) is refused as already imported."""

    __tablename__ = "ack_interchanges"
    __table_args__ = (UniqueConstraint("kind", "sender_id", "control_number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    sender_id: Mapped[str] = mapped_column(String(15))
    control_number: Mapped[str] = mapped_column(String(9))
    file_name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    created_on: Mapped[date] = mapped_column(Date)
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(100))


class SetAck(Base):
    """A 999's answer about one of our transaction sets (AK2/IK5), or about a whole functional
    group when ``transaction_control_number`` is empty (AK9 without AK2). ``errors`` is a JSON
    list of the IK3/IK4 codes, described when shown so that an updated code file applies."""

    __tablename__ = "set_acks"
    __table_args__ = (
        Index(
            "ix_set_acks_group_transaction", "group_control_number", "transaction_control_number"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    interchange_id: Mapped[int] = mapped_column(ForeignKey("ack_interchanges.id"), index=True)
    group_control_number: Mapped[int] = mapped_column(Integer)
    transaction_control_number: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(1))
    codes: Mapped[str] = mapped_column(String(40))  # IK502-506 or AK905-909, space-separated
    errors: Mapped[str] = mapped_column(Text)
    segment: Mapped[int] = mapped_column(Integer)


class ClaimAck(Base):
    """A 277CA's answer about one claim (2200D). ``claim_id`` is empty when neither the
    patient control number nor the payer's claim number names a claim of ours."""

    __tablename__ = "claim_acks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    interchange_id: Mapped[int] = mapped_column(ForeignKey("ack_interchanges.id"), index=True)
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("claims.id"), index=True)
    patient_control_number: Mapped[str] = mapped_column(String(50))
    payer_claim_control_number: Mapped[str | None] = mapped_column(String(50))
    accepted: Mapped[bool] = mapped_column(Boolean)
    statuses: Mapped[str] = mapped_column(Text)  # JSON list of [category, status, entity]
    effective_on: Mapped[date] = mapped_column(Date)
    segment: Mapped[int] = mapped_column(Integer)


# --- Web app (issue 7): accounts, sessions and the login rate limit.


class User(Base):
    """Someone who logs in to the web app. Only an argon2id hash of the password is kept.
    ``staff_id`` links a care manager to the staff member whose time they record; ``team``
    groups staff users under a supervisor with the same team."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    staff_id: Mapped[str | None] = mapped_column(ForeignKey("staff.staff_id"))
    team: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The TOTP secret (base32) once the user has enrolled in MFA; it must be readable to check
    # a code, so it is kept as is (the database and its backups are to be encrypted at rest).
    mfa_secret: Mapped[str | None] = mapped_column(String(64))
    # The time-step (RFC 6238 counter: Unix time // 30) of the last TOTP code accepted for
    # this user, at enrolment or a login: a code of this step or an earlier one is refused,
    # so each code is used once.
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    # Set by an admin's password reset: the user changes it before opening any page.
    must_change_password: Mapped[bool] = mapped_column(
        Boolean, default=False, server_default=false()
    )


class RecoveryCode(Base):
    """A one-time MFA recovery code, kept only as an argon2id hash; ``used_at`` once used."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(255))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WebSession(Base):
    """A logged-in browser. The cookie holds a random token; only its SHA-256 is stored, so a
    copy of the database does not let anyone log in. The CSRF token is bound to the session."""

    __tablename__ = "web_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # "code": the password was right and the MFA code is awaited; such a session opens no page.
    stage: Mapped[str | None] = mapped_column(String(16))


class LoginAttempt(Base):
    """Failed logins per username and address, kept in the database so that the rate limit
    survives a restart of the app."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_who", "username", "address", "at"),
        Index("ix_login_attempts_address", "address", "at"),
        Index("ix_login_attempts_at", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TimeApproval(Base):
    """A supervisor's sign-off on a team member's time entry. It holds a fingerprint of the
    entry as approved: any later change to the entry, by the web or an import, leaves the
    approval behind instead of carrying it over to time nobody looked at."""

    __tablename__ = "time_approvals"

    entry_id: Mapped[str] = mapped_column(ForeignKey("time_entries.entry_id"), primary_key=True)
    approved_by: Mapped[str] = mapped_column(String(64))
    approved_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    fingerprint: Mapped[str] = mapped_column(String(64))


class IdempotencyKey(Base):
    """A phone's promise that a record is sent once: the key it made up for an entry kept
    offline, per user, and what the first send created and answered. A second send with the
    same key (the network dropped the answer, the phone sent again) gets the same answer and
    creates nothing. ``response`` is empty while the first send is still being saved."""

    __tablename__ = "idempotency_keys"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    record_id: Mapped[str | None] = mapped_column(String(64))
    response: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LateChange(Base):
    """A time entry a care manager sent for a month the biller already closed: it waits for
    the biller, who accepts it (recorded then, after the close, so the next close claims it)
    or refuses it. The form's values are kept as typed, checked already."""

    __tablename__ = "late_changes"
    __table_args__ = (Index("ix_late_changes_status", "status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    staff_id: Mapped[str] = mapped_column(ForeignKey("staff.staff_id"))
    member_id: Mapped[str] = mapped_column(ForeignKey("members.member_id"))
    date: Mapped[date] = mapped_column(Date)
    minutes: Mapped[int] = mapped_column(Integer)
    values: Mapped[str] = mapped_column(Text)
    submitted_by: Mapped[str] = mapped_column(String(64))
    submitted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(10))
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    entry_id: Mapped[str | None] = mapped_column(String(64))


# --- The denial work list (issue 15): what the biller decided about each denied or partly
# paid claim line. The denial itself lives in the remittance tables; only the work is kept here.


class DenialWork(Base):
    """The biller's status of one denied or partly paid item: a claim line (``claim_line_id``)
    or a claim the payer denied without answering its lines (``claim_line_id`` empty).
    ``item_key`` is ``L<line id>`` or ``C<claim id>``: one row per item on every database
    (a unique constraint over a nullable column lets NULLs repeat)."""

    __tablename__ = "denial_work"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    item_key: Mapped[str] = mapped_column(String(24), unique=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id"), index=True)
    claim_line_id: Mapped[int | None] = mapped_column(ForeignKey("claim_lines.id"))
    status: Mapped[str] = mapped_column(String(12), index=True)
    note: Mapped[str] = mapped_column(Text)
    replacement_claim_id: Mapped[int | None] = mapped_column(ForeignKey("claims.id"))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(100))


class DenialStatusChange(Base):
    """Every status a denial item was given, with the note and who gave it, oldest first."""

    __tablename__ = "denial_status_history"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    work_id: Mapped[int] = mapped_column(ForeignKey("denial_work.id"), index=True)
    status: Mapped[str] = mapped_column(String(12))
    note: Mapped[str] = mapped_column(Text)
    replacement_claim_id: Mapped[int | None] = mapped_column(ForeignKey("claims.id"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(100))
