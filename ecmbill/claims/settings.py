"""Billing provider, payer and interchange settings, validated with Pydantic.

They are stored as text in the ``settings`` table under the ``claims.`` prefix, so one
``ecmbill settings set KEY VALUE`` changes one value. A close checks them all before it writes
anything, and names every missing or malformed field at once.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ecmbill.domain.identifiers import is_npi
from ecmbill.store import plans as stored_plans
from ecmbill.store.db import Engine, Session, unit_of_work
from ecmbill.store.plans import StoredPlan
from ecmbill.store.settings import read_prefixed, write_settings

PREFIX = "claims."
# ISA/GS identifiers: letters, digits and spaces only, so they can never hold a delimiter.
_X12_ID = r"^[A-Za-z0-9 ]{2,15}$"
_ICD10 = re.compile(r"^[A-TV-Z][0-9][0-9AB][0-9A-TV-Z]{0,4}$")


class SettingsError(ValueError):
    """One message per bad field, in the order of the model."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


def _x12_text(value: str) -> str:
    # The 837 delimiters (* ~ : ^) inside a name would break the file.
    value = " ".join(value.split())
    if any(char in value for char in "*~:^"):
        raise ValueError("may not contain * ~ : or ^")
    if not value:
        raise ValueError("is empty")
    return value


class ProviderSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    billing_name: str = Field(max_length=60, description="Billing provider organisation name")
    billing_npi: str = Field(description="Billing provider NPI (10 digits, check digit)")
    billing_ein: str = Field(description="Billing provider tax id (EIN), 9 digits")
    billing_taxonomy: str = Field(description="Billing provider taxonomy code, 10 characters")
    billing_address: str = Field(max_length=55, description="Street address (no P.O. box)")
    billing_city: str = Field(max_length=30)
    billing_state: str = Field(pattern=r"^[A-Z]{2}$", description="Two-letter state code")
    billing_zip: str = Field(description="ZIP+4, 9 digits (the 837P requires all nine)")
    billing_phone: str = Field(pattern=r"^[0-9]{10}$", description="Contact phone, 10 digits")
    billing_contact: str = Field(max_length=60, description="Contact person for the submitter")
    payer_name: str = Field(max_length=60)
    payer_id: str = Field(pattern=r"^[A-Za-z0-9]{2,80}$", description="Payer id (2010BB NM109)")
    submitter_id: str = Field(pattern=_X12_ID, description="ISA06/GS02 sender id")
    receiver_id: str = Field(pattern=_X12_ID, description="ISA08/GS03 receiver id")
    receiver_name: str = Field(max_length=60, description="1000B receiver name")
    place_of_service: str = Field(pattern=r"^[0-9]{2}$", description="Default place of service")
    diagnosis_code: str = Field(description="Default ICD-10 diagnosis, e.g. Z59.8")
    rendering_npi_on_line: bool = Field(description="Put the staff NPI on each line (yes/no)")
    usage: Literal["P", "T"] = Field(default="P", description="ISA15: P production, T test")
    # Eligibility checks (270/271): optional; each defaults to the claims' value named.
    eligibility_receiver_id: str | None = Field(
        default=None, pattern=_X12_ID, description="ISA08/GS03 of the 270 (default receiver_id)"
    )
    eligibility_source_id: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9]{2,80}$",
        description="270 information source id, 2100A NM109 (default payer_id)",
    )
    eligibility_plan_ids: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9]{2,80}( *, *[A-Za-z0-9]{2,80})*$",
        description="How a 271 names our plan, comma-separated (default payer_id)",
    )
    eligibility_batch_size: int = Field(
        default=99, ge=1, le=10000, description="Members per 270 transaction the receiver takes"
    )
    remit_payer_ids: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9]{2,80}( *, *[A-Za-z0-9]{2,80})*$",
        description="How an 835 names this payer (TRN03, N1*PR N104 or REF*2U), "
        "comma-separated (default payer_id); only read when the office bills several plans",
    )

    @property
    def plan_ids(self) -> tuple[str, ...]:
        """The identifiers a 271 may name our plan by."""
        if not self.eligibility_plan_ids:
            return (self.payer_id,)
        return tuple(part.strip() for part in self.eligibility_plan_ids.split(","))

    @property
    def remit_ids(self) -> tuple[str, ...]:
        """The identifiers an 835 from this payer may name it by."""
        if not self.remit_payer_ids:
            return (self.payer_id,)
        return tuple(part.strip() for part in self.remit_payer_ids.split(","))

    _text = field_validator(
        "billing_name",
        "billing_address",
        "billing_city",
        "billing_contact",
        "payer_name",
        "receiver_name",
    )(_x12_text)

    @field_validator("billing_npi")
    @classmethod
    def _npi(cls, value: str) -> str:
        if not is_npi(value):
            raise ValueError("is not a valid NPI (10 digits with a correct check digit)")
        return value

    @field_validator("billing_ein")
    @classmethod
    def _ein(cls, value: str) -> str:
        digits = value.replace("-", "")
        if not (len(digits) == 9 and digits.isdigit()):
            raise ValueError("an EIN is 9 digits (12-3456789)")
        return digits

    @field_validator("billing_taxonomy")
    @classmethod
    def _taxonomy(cls, value: str) -> str:
        if not re.fullmatch(r"[0-9]{3}[0-9A-Z]{6}X", value.upper()):
            raise ValueError("a taxonomy code is 10 characters ending in X, e.g. 251S00000X")
        return value.upper()

    @field_validator("billing_zip")
    @classmethod
    def _zip(cls, value: str) -> str:
        digits = value.replace("-", "")
        if not (len(digits) == 9 and digits.isdigit()):
            raise ValueError("the billing provider ZIP is 9 digits (ZIP+4), e.g. 94612-1234")
        return digits

    @field_validator("diagnosis_code")
    @classmethod
    def _icd10(cls, value: str) -> str:
        code = value.replace(".", "").upper()
        if not _ICD10.match(code):
            raise ValueError("is not an ICD-10-CM code (e.g. Z59.8)")
        return code


FIELDS: tuple[str, ...] = tuple(ProviderSettings.model_fields)
# What a plan's own payer settings may set (``plans.payer_settings``): the payer and the
# exchange with it. The billing provider (NPI, TIN, address) is the office's, for every plan.
PAYER_FIELDS: tuple[str, ...] = (
    "payer_name",
    "payer_id",
    "submitter_id",
    "receiver_id",
    "receiver_name",
    "usage",
    "eligibility_receiver_id",
    "eligibility_source_id",
    "eligibility_plan_ids",
    "eligibility_batch_size",
    "remit_payer_ids",
)
BOOLEAN_WORDS = {"yes": True, "true": True, "1": True, "no": False, "false": False, "0": False}


def parse_settings(values: dict[str, Any]) -> ProviderSettings:
    """Validate a mapping of field -> value; raise ``SettingsError`` naming every bad field."""
    problems: list[str] = []
    data: dict[str, Any] = {}
    for key, value in values.items():
        if key not in FIELDS:
            problems.append(f"{key}: unknown setting (known: {', '.join(FIELDS)})")
        elif key == "rendering_npi_on_line" and isinstance(value, str):
            if value.strip().lower() not in BOOLEAN_WORDS:
                problems.append(f"{key}: answer yes or no")
            else:
                data[key] = BOOLEAN_WORDS[value.strip().lower()]
        else:
            data[key] = value
    try:
        settings = ProviderSettings.model_validate(data)
    except ValidationError as err:
        named = {problem.split(":")[0] for problem in problems}
        for error in err.errors():
            field = ".".join(str(part) for part in error["loc"])
            if field in named:
                continue
            reason = "missing" if error["type"] == "missing" else error["msg"]
            problems.append(f"{field}: {reason.removeprefix('Value error, ')}")
        raise SettingsError(problems) from None
    if problems:
        raise SettingsError(problems)
    return settings


def check_one(key: str, value: str) -> str:
    """Check a single ``settings set`` value on its own (other fields may still be missing)."""
    try:
        parse_settings({key: value})
    except SettingsError as err:
        mine = [problem for problem in err.problems if problem.startswith(f"{key}:")]
        if mine:
            raise SettingsError(mine) from None
    return value.strip()


def settings_from_toml(text: str, source: str) -> dict[str, str]:
    """A settings file: ``key = "value"`` lines, optionally under a ``[claims]`` table."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise SettingsError([f"{source}: not valid TOML: {err}"]) from None
    if isinstance(data.get("claims"), dict) and len(data) == 1:
        data = data["claims"]
    values: dict[str, str] = {}
    for key, value in data.items():
        if isinstance(value, bool):
            values[key] = "yes" if value else "no"
        elif isinstance(value, str | int):
            values[key] = str(value)
        else:
            raise SettingsError([f"{key}: expected a text value"])
    return values


def stored_settings(session: Session) -> dict[str, str]:
    """The claims settings as stored, keyed without their prefix, valid or not."""
    return read_prefixed(session, PREFIX)


def provider_settings(engine: Engine) -> ProviderSettings:
    """The complete, valid settings; ``SettingsError`` names every missing or bad field."""
    with unit_of_work(engine) as session:
        values = stored_settings(session)
    return parse_settings(values)


# The ids that default to the claims' payer_id or receiver_id name the office's payer or
# receiver: a plan billed to a payer (or through a receiver) of its own does not take them from
# the office (its 270 would name the other payer as the source, or be addressed to the other
# receiver; its 271 or 835 would be matched by the other payer's ids); its own payer_id or
# receiver_id is their default.
OF_OFFICE: dict[str, tuple[str, ...]] = {
    "payer_id": ("eligibility_source_id", "eligibility_plan_ids", "remit_payer_ids"),
    "receiver_id": ("eligibility_receiver_id",),
}


def plan_payer_values(session: Session) -> dict[str, dict[str, str]]:
    """Each plan's settings as stored, valid or not, in plan order: the claims settings with
    the plan's own payer settings over them (a plan with a payer or receiver of its own keeps
    none of the office's ids that default to them, ``OF_OFFICE``)."""
    base = stored_settings(session)
    found = {}
    for plan in stored_plans.plans(session):
        own = {k: str(v) for k, v in plan.payer_settings.items()}
        values = {**base, **own}
        for default, dependent in OF_OFFICE.items():
            if own.get(default, base.get(default)) != base.get(default):
                for key in dependent:
                    if key not in own:
                        values.pop(key, None)
        found[plan.key] = values
    return found


def plan_settings(engine: Engine, plan: str) -> ProviderSettings:
    """The plan's complete, valid settings: the claims settings with its payer's over them
    (the first plan usually has none of its own: its payer is the claims settings' payer).
    ``SettingsError`` names every missing or bad field, saying which plan's."""
    with unit_of_work(engine) as session:
        values = plan_payer_values(session)
    if plan not in values:
        raise SettingsError([f"plan: no plan {plan!r}"])
    try:
        return parse_settings(values[plan])
    except SettingsError as err:
        if len(values) == 1:
            raise
        named = [f"plan {plan}: {p}" if p.split(":")[0] in PAYER_FIELDS else p
                 for p in err.problems]  # fmt: skip
        raise SettingsError(named) from None


def all_plan_settings(engine: Engine) -> dict[str, ProviderSettings]:
    """:func:`plan_settings` of every plan, in plan order."""
    with unit_of_work(engine) as session:
        keys = [plan.key for plan in stored_plans.plans(session)]
    return {key: plan_settings(engine, key) for key in keys}


def check_payer_values(values: dict[str, str]) -> dict[str, str]:
    """A plan's payer settings checked with the claims settings' model: only the payer's
    fields, each valid on its own. Returns them cleaned."""
    problems: list[str] = []
    checked: dict[str, str] = {}
    for key, value in values.items():
        if key not in PAYER_FIELDS:
            problems.append(
                f"{key}: not a payer setting (a plan may set: {', '.join(PAYER_FIELDS)})"
            )
            continue
        try:
            checked[key] = check_one(key, str(value))
        except SettingsError as err:
            problems.extend(err.problems)
    if problems:
        raise SettingsError(problems)
    return checked


def set_plan_payer(engine: Engine, plan: str, values: dict[str, str], actor: str) -> StoredPlan:
    """Store the plan's own payer settings (merged over the ones it had), checked first: all
    of them or none. The audit trail records the change."""
    checked = check_payer_values(values)
    with unit_of_work(engine) as session:
        if stored_plans.plan(session, plan) is None:
            raise SettingsError([f"plan: no plan {plan!r}"])
        return stored_plans.update_plan(session, plan, actor, payer_settings=checked)


def settings_problems(engine: Engine) -> list[str]:
    try:
        provider_settings(engine)
    except SettingsError as err:
        return err.problems
    return []


def show_settings(engine: Engine) -> dict[str, str | None]:
    with unit_of_work(engine) as session:
        values = stored_settings(session)
    return {name: values.get(name) for name in FIELDS}


def set_settings(engine: Engine, values: dict[str, str], actor: str) -> list[str]:
    """Check every value on its own, then store them all or none. Returns the changed keys."""
    problems: list[str] = []
    checked: dict[str, str] = {}
    for key, value in values.items():
        try:
            checked[PREFIX + key] = check_one(key, value)
        except SettingsError as err:
            problems.extend(err.problems)
    if problems:
        raise SettingsError(problems)
    with unit_of_work(engine) as session:
        changed = write_settings(session, checked, actor=actor)
    return [key.removeprefix(PREFIX) for key in changed]


def load_settings_file(engine: Engine, path: Path, actor: str) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise SettingsError([f"{path}: cannot read the settings file ({err.strerror})"]) from None
    return set_settings(engine, settings_from_toml(text, str(path)), actor)
