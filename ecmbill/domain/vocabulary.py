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


# Every value above, and the other stored words a page shows (a claim's status and
# frequency, a not-billed item's source, an export's format), in plain words: one place, so
# a page never shows "in_person" or "not_reached" to a care manager or a biller.
WORDS: dict[str, str] = {
    Role.CLINICAL: "Clinical",
    Role.NON_CLINICAL: "Non-clinical",
    Modality.IN_PERSON: "In person",
    Modality.TELEPHONIC: "Phone or video",
    Kind.OUTREACH: "Outreach",
    Kind.SERVICE: "Service",
    OutreachMethod.PHONE: "Phone",
    OutreachMethod.VIDEO: "Video",
    OutreachMethod.TEXT: "Text message",
    OutreachMethod.EMAIL: "E-mail",
    OutreachMethod.MAIL: "Mail",
    OutreachOutcome.REACHED: "Reached",
    OutreachOutcome.NOT_REACHED: "Not reached",
    OutreachOutcome.DECLINED: "Declined",
    Source.TIME: "Time entry",
    Sex.F: "Female",
    Sex.M: "Male",
    Sex.U: "Unknown",
    # A claim's status in the store.
    "active": "Made",
    "void": "Void",
    "rejected": "Rejected by the payer",
    # Files.
    "837p": "837P",
    "csv": "Invoice (CSV)",
    "xlsx": "Invoice (XLSX)",
    "otf": "Outreach Tracker File",
    "rtf": "Return Transmission File",
}

# A claim's frequency code (CLM05-3) in words.
FREQUENCIES: dict[str, str] = {"1": "Original", "7": "Replacement", "8": "Void"}


def in_words(value: object) -> str:
    """The plain words for a stored value; a value without words is shown with its
    underscores as spaces and a capital first letter, never raw."""
    text = str(getattr(value, "value", value))
    known = WORDS.get(text)
    if known is not None:
        return known
    plain = text.replace("_", " ")
    return plain[:1].upper() + plain[1:]
