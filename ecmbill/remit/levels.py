"""What an 835 may get wrong, and what each fault does to the import: the rule of the two
levels, kept as data so that the reader only names what it found.

- **refuse**: nothing of the file is posted (exit 2). A fault that makes the money unsafe: an
  amount that does not add up, a payment to someone else, a payment that could post twice, a
  file cut short or unreadable, a code that decides how the money is read.
- **warn**: the file is posted and the warning is kept with each remittance it touches. A fault
  against a TR3 rule that leaves every amount, claim and payee certain: the provider cannot
  make the payer resend, and refusing would leave the money unposted.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Level(StrEnum):
    REFUSE = "refused"
    WARN = "posted with a warning"


class Fault(StrEnum):
    # refused
    NOT_TEXT = "not_text"
    NOT_X12 = "not_x12"
    NOT_835 = "not_835"
    TRUNCATED = "truncated"
    UNPARSEABLE = "unparseable"
    SEGMENT_COUNT = "segment_count"
    BAD_AMOUNT = "bad_amount"
    BAD_CODE = "bad_code"
    UNBALANCED_LINE = "unbalanced_line"
    UNBALANCED_CLAIM = "unbalanced_claim"
    UNBALANCED_TRANSACTION = "unbalanced_transaction"
    OTHER_PAYEE = "other_payee"
    NO_PAYEE = "no_payee"
    NO_TRACE = "no_trace"
    REPEATED_TRACE = "repeated_trace"
    # posted with a warning
    NO_PAYER_CONTACT = "no_payer_contact"
    NO_PAYMENT_DATE = "no_payment_date"
    UNKNOWN_QUALIFIER = "unknown_qualifier"
    NO_ENVELOPE = "no_envelope"
    LOWER_CASE_IDS = "lower_case_ids"
    CONTROL_NUMBER = "control_number"
    NO_FINAL_TERMINATOR = "no_final_terminator"
    BAD_DATE = "bad_date"
    PAYEE_ACCEPTED = "payee_accepted"
    UNKNOWN_PAYER = "unknown_payer"


@dataclass(frozen=True)
class Rule:
    level: Level
    why: str


R, W = Level.REFUSE, Level.WARN

RULES: dict[Fault, Rule] = {
    Fault.NOT_TEXT: Rule(R, "a PDF, spreadsheet or zip file holds no 835 to read"),
    Fault.NOT_X12: Rule(R, "without ISA or ST at the start nothing can be read"),
    Fault.NOT_835: Rule(R, "another transaction (an 837, a 999) is not a payment"),
    Fault.TRUNCATED: Rule(R, "a file cut short may miss claims: posting half a file is wrong"),
    Fault.UNPARSEABLE: Rule(R, "a segment that cannot be read may hold money"),
    Fault.SEGMENT_COUNT: Rule(R, "SE01 not matching means segments were lost or added"),
    Fault.BAD_AMOUNT: Rule(R, "an amount that is not a number cannot be posted"),
    Fault.BAD_CODE: Rule(
        R, "CLP02 (paid, denied, reversed) and SVC01-1 (the code list) decide what the money is"
    ),
    Fault.UNBALANCED_LINE: Rule(R, "SVC02 - line adjustments must equal SVC03"),
    Fault.UNBALANCED_CLAIM: Rule(R, "CLP03 - CLP04 must equal the claim's and lines' adjustments"),
    Fault.UNBALANCED_TRANSACTION: Rule(R, "BPR02 must equal the sum of CLP04 less the PLB amounts"),
    Fault.OTHER_PAYEE: Rule(R, "a payment to another provider must not post to our claims"),
    Fault.NO_PAYEE: Rule(R, "without the payee's NPI or TIN the payment may not be ours"),
    Fault.NO_TRACE: Rule(R, "without TRN02 the same payment could post twice"),
    Fault.REPEATED_TRACE: Rule(R, "one payment given twice in one file would post half a file"),
    Fault.NO_PAYER_CONTACT: Rule(W, "PER*BL is the payer's technical contact; no money in it"),
    Fault.NO_PAYMENT_DATE: Rule(W, "BPR16 dates the payment; another date of the file stands in"),
    Fault.UNKNOWN_QUALIFIER: Rule(W, "a qualifier we do not know labels a value, not an amount"),
    Fault.NO_ENVELOPE: Rule(W, "ISA/GS wrap the transaction; a whole ST..SE holds every amount"),
    Fault.LOWER_CASE_IDS: Rule(W, "segment ids in lower case are read as upper case"),
    Fault.CONTROL_NUMBER: Rule(W, "a trailer's control number that differs names no money"),
    Fault.NO_FINAL_TERMINATOR: Rule(W, "the last segment is whole without its terminator"),
    Fault.BAD_DATE: Rule(W, "a service date we cannot read leaves the line unmatched, listed"),
    Fault.PAYEE_ACCEPTED: Rule(W, "the biller named this payee with --accept-payee"),
    Fault.UNKNOWN_PAYER: Rule(
        W, "with several plans an 835 pays only its payer's claims: no plan's payer is this one"
    ),
}


def level_of(fault: Fault) -> Level:
    return RULES[fault].level
