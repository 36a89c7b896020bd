"""The words of the billing guide, as closed sets of values."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """A staff member's role on a given date; it picks G9008 (clinical) or G9012 (non-clinical)."""

    CLINICAL = "clinical"
    NON_CLINICAL = "non_clinical"


class Modality(StrEnum):
    """How a service was delivered. Telephonic covers phone, video/telehealth, individualized
    text and secure e-mail: the guide bills all of them with the GQ modifier."""

    IN_PERSON = "in_person"
    TELEPHONIC = "telephonic"


class Kind(StrEnum):
    """A claim line is either ECM service time or one pre-enrollment outreach attempt."""

    OUTREACH = "outreach"
    SERVICE = "service"


class OutreachMethod(StrEnum):
    IN_PERSON = "in_person"
    PHONE = "phone"
    VIDEO = "video"
    TEXT = "text"
    EMAIL = "email"
    MAIL = "mail"


class OutreachOutcome(StrEnum):
    REACHED = "reached"
    NOT_REACHED = "not_reached"
    DECLINED = "declined"


class Source(StrEnum):
    """Which kind of recorded work a not-billed item came from."""

    TIME = "time"
    OUTREACH = "outreach"


class Sex(StrEnum):
    """A member's sex as the plan sends it (834 DMG03) and the 837P writes it (DMG03):
    female, male, or unknown."""

    F = "f"
    M = "m"
    U = "u"

    @property
    def code(self) -> str:
        return self.value.upper()
