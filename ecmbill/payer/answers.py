"""One door for any answer from the payer (999, 277CA or 271), told apart by GS08."""

from __future__ import annotations

from pathlib import Path

from ecmbill.payer.acks import AckOutcome, import_ack
from ecmbill.payer.eligibility import VERSION as ELIGIBILITY
from ecmbill.payer.eligibility import EligibilityOutcome, import_271
from ecmbill.store.db import Engine


def guide_of(head: str) -> str:
    """GS08 of an interchange's first functional group, from its first bytes."""
    text = head.lstrip()
    if not text.startswith("ISA") or len(text) < 107:
        return ""
    separator, terminator = text[3], text[105]
    start = text.find(f"{terminator}", 100)
    for segment in text[start + 1 :].split(terminator):
        elements = segment.strip().split(separator)
        if elements[0] == "GS":
            return elements[8] if len(elements) > 8 else ""
    return ""


def import_answer(
    engine: Engine, path: Path, *, actor: str, plan: str | None = None
) -> AckOutcome | EligibilityOutcome:
    """Post a 999 or a 277CA, or apply a 271 (``plan``: whose 271 it is, with several plans;
    the acknowledgments find their claims themselves). Raises ``AckFileError``,
    ``EligibilityFileError`` or ``WhosePlan`` naming what is wrong; nothing is changed then."""
    head = path.read_bytes()[:600].decode("ascii", errors="replace")
    if guide_of(head) == ELIGIBILITY:
        return import_271(engine, path, actor=actor, plan=plan)
    return import_ack(engine, path, actor=actor)
