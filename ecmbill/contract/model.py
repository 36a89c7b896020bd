"""The contract file, validated with Pydantic. A bad contract fails with the key and the reason."""

from __future__ import annotations

import tomllib
from decimal import Decimal
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from ecmbill.domain.outreach import UnableToReachRule
from ecmbill.domain.vocabulary import Kind, Modality, OutreachMethod, Role

COMPONENTS = (
    "outreach_and_engagement",
    "assessment_and_care_plan",
    "care_coordination",
    "health_promotion",
    "transitional_care",
    "member_family_supports",
    "community_referral",
)


class ContractError(ValueError):
    """The contract file is unreadable or says something impossible."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CodeEntry(_Strict):
    role: Role
    modality: Modality
    kind: Kind
    code: str = Field(pattern=r"^[A-Z][0-9]{4}$")
    modifiers: tuple[str, ...] = Field(max_length=4)
    rate: Decimal = Field(ge=0, decimal_places=2)
    description: str = ""

    @field_validator("modifiers")
    @classmethod
    def _two_character_modifiers(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for modifier in value:
            if len(modifier) != 2 or not modifier.isalnum():
                raise ValueError(f"modifier {modifier!r} is not two letters or digits")
        return value


class Activity(_Strict):
    reimbursable: bool
    component: str | None = None
    description: str

    @model_validator(mode="after")
    def _component_for_reimbursable(self) -> Activity:
        if self.reimbursable and self.component not in COMPONENTS:
            raise ValueError(
                f"a reimbursable activity needs a component, one of: {', '.join(COMPONENTS)}"
            )
        return self


class UnableToReach(_Strict):
    required_attempts: int = Field(default=3, ge=1)
    distinct_methods: int | None = Field(default=None, ge=1, le=len(OutreachMethod))
    window_days: int | None = Field(default=None, ge=1)
    # The discontinuation reason reported to the plan for a member unable to reach.
    reason_code: str = "04"

    def rule(self) -> UnableToReachRule:
        return UnableToReachRule(self.required_attempts, self.distinct_methods, self.window_days)


class ClaimRules(_Strict):
    """Where payers differ on what a claim must say (docs/decisions.md says why the defaults).

    - ``member_address``: ``required`` holds back at close a claim whose member has no
      address (2010BA N3/N4 is required when the member is the patient); ``waived`` when the
      payer accepts claims without it.
    - ``same_day_outreach``: two attempts of one member on one day billed under one code and
      modifiers give ``one_line`` with units = attempts, or ``repeat_modifier``: a line each,
      every line after the first carrying ``repeat_modifier``.
    - ``after_denial``: a claim the payer denied is corrected by a ``new_original`` claim
      (frequency 1) or a ``replacement`` (frequency 7); it is never voided.
    """

    member_address: Literal["required", "waived"] = "required"
    same_day_outreach: Literal["one_line", "repeat_modifier"] = "one_line"
    repeat_modifier: str = Field(default="76", pattern=r"^[A-Z0-9]{2}$")
    after_denial: Literal["new_original", "replacement"] = "new_original"


# Why a member's ECM ends, as reported on the Return Transmission File. Modelled on the state's
# ECM discontinuation reasons; a plan with its own list replaces them in the contract file.
DEFAULT_DISCONTINUATION_REASONS: dict[str, str] = {
    "01": "Member has met all care plan goals",
    "02": "Member is ready to transition to a lower level of care",
    "03": "Member no longer wishes to receive ECM or is unresponsive to engagement",
    "04": "ECM provider has not been able to connect with the member after multiple attempts",
    "05": "Member is incarcerated",
    "06": "Member has moved out of the service area",
    "07": "Member is deceased",
    "08": "Member has lost Medi-Cal eligibility or changed health plan",
    "09": "Member is receiving duplicative services from another program",
    "10": "Other",
}


class Contract(_Strict):
    name: str
    billing_period: Literal["month"] = "month"
    timely_filing_days: int = Field(default=365, ge=1)
    codes: tuple[CodeEntry, ...]
    outreach_methods: dict[OutreachMethod, Modality | Literal["not_billable"]]
    unable_to_reach: UnableToReach = UnableToReach()
    claims: ClaimRules = ClaimRules()
    activities: dict[str, Activity]
    discontinuation_reasons: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_DISCONTINUATION_REASONS)
    )
    # One staff member's clock intervals that overlap on one day: refused, or (rows of the same
    # member, activity and modality) merged into one entry. See ecmbill.domain.corrections.
    overlapping_time: Literal["refuse", "merge"] = "refuse"
    # Whether a time entry bills only once a supervisor approved it as it stands: when on, an
    # entry without a current approval is not billed (reason NOT_APPROVED, after every other
    # reason). Outreach attempts are not approved and are not affected.
    require_approval: bool = False

    @model_validator(mode="after")
    def _complete_code_table(self) -> Contract:
        seen: set[tuple[Role, Modality, Kind]] = set()
        for entry in self.codes:
            key = (entry.role, entry.modality, entry.kind)
            if key in seen:
                raise ValueError(f"codes: {_describe(key)} is listed twice")
            seen.add(key)
        missing = [
            _describe((role, modality, kind))
            for role in Role
            for modality in Modality
            for kind in Kind
            if (role, modality, kind) not in seen
        ]
        if missing:
            raise ValueError(f"codes: no code for {'; '.join(missing)}")
        absent = [m.value for m in OutreachMethod if m not in self.outreach_methods]
        if absent:
            raise ValueError(f"outreach_methods: say how to bill {', '.join(absent)}")
        if self.unable_to_reach.reason_code not in self.discontinuation_reasons:
            raise ValueError(
                f"unable_to_reach.reason_code {self.unable_to_reach.reason_code!r} is not in "
                "discontinuation_reasons"
            )
        return self

    def activity_names(self, *, reimbursable: bool) -> tuple[str, ...]:
        """The catalogue's activities that are (or are not) reimbursable, in the file's order."""
        return tuple(n for n, a in self.activities.items() if a.reimbursable is reimbursable)

    def code_for(self, role: Role, modality: Modality, kind: Kind) -> CodeEntry:
        for entry in self.codes:
            if (entry.role, entry.modality, entry.kind) == (role, modality, kind):
                return entry
        raise KeyError((role, modality, kind))  # unreachable: the table is complete

    def rate_for(self, code: str, modifiers: tuple[str, ...]) -> Decimal:
        for entry in self.codes:
            if entry.code == code and entry.modifiers == modifiers:
                return entry.rate
        raise KeyError(f"no rate for {code} {' '.join(modifiers)}")


def _describe(key: tuple[Role, Modality, Kind]) -> str:
    role, modality, kind = key
    return f"{role.value} {modality.value} {kind.value}"


def parse_contract(text: str, source: str = "contract") -> Contract:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise ContractError(f"{source}: not valid TOML: {err}") from None
    try:
        return Contract.model_validate(data)
    except ValidationError as err:
        problems = []
        for error in err.errors():
            key = ".".join(str(part) for part in error["loc"]) or "(top level)"
            problems.append(f"{key}: {error['msg']}")
        raise ContractError(f"{source}: " + "; ".join(problems)) from None


def load_contract(path: Path) -> Contract:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ContractError(f"{path}: cannot read the contract file ({err.strerror})") from None
    return parse_contract(text, str(path))


def default_toml() -> str:
    return resources.files("ecmbill.contract").joinpath("default.toml").read_text(encoding="utf-8")


@cache
def default_contract() -> Contract:
    return parse_contract(default_toml(), "default contract")
