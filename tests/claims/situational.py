"""The 837P's situational rules that pyx12 does not check, as a clearinghouse applies them.

005010X222A1, loop 2010BA (subscriber name): N3 and N4 (subscriber address) are "Required
when the patient is the subscriber (2000B SBR02 = 18)", and so is DMG (subscriber
demographics), with DMG03 a sex code (F, M or U). Every ECM member is the subscriber and the
patient, so every claim needs them. This reads the file on its own: it shares nothing with
the writer in ``ecmbill.claims.x12``.
"""

from __future__ import annotations

from pathlib import Path

SEXES = frozenset({"F", "M", "U"})


def situational_errors(path: Path) -> list[str]:
    """One message per 2000B subscriber loop whose 2010BA lacks what SBR02 = 18 requires."""
    text = path.read_text(encoding="ascii")
    element, terminator = text[3], text[105]
    segments = [s.strip() for s in text.split(terminator) if s.strip()]
    errors: list[str] = []
    loop: list[list[str]] | None = None
    for segment in [*segments, "HL"]:
        fields = segment.split(element)
        if fields[0] == "HL":
            if loop is not None:
                errors += _check(loop)
            loop = [fields] if len(fields) > 3 and fields[3] == "22" else None
        elif loop is not None:
            loop.append(fields)
    return errors


def _check(loop: list[list[str]]) -> list[str]:
    hl = loop[0][1]
    sbr = next((s for s in loop if s[0] == "SBR"), None)
    if sbr is None or len(sbr) < 3 or sbr[2] != "18":
        return []
    # 2010BA runs from NM1*IL to the next NM1 (2010BB payer) or CLM.
    start = next((i for i, s in enumerate(loop) if s[0] == "NM1" and s[1] == "IL"), None)
    if start is None:
        return [f"HL {hl}: 2010BA NM1*IL is missing"]
    end = next(
        (i for i, s in enumerate(loop) if i > start and (s[0] in ("CLM", "HL") or s[0] == "NM1")),
        len(loop),
    )
    ids = {s[0]: s for s in loop[start:end]}
    errors = []
    for segment in ("N3", "N4"):
        if segment not in ids:
            errors.append(f"HL {hl}: 2010BA {segment} is required when SBR02 = 18")
    n4 = ids.get("N4")
    if n4 is not None and (len(n4) < 4 or not all(n4[1:4])):
        errors.append(f"HL {hl}: 2010BA N4 needs city, state and postal code")
    dmg = ids.get("DMG")
    if dmg is None:
        errors.append(f"HL {hl}: 2010BA DMG is required when SBR02 = 18")
    elif len(dmg) < 4 or dmg[1] != "D8" or len(dmg[2]) != 8 or dmg[3] not in SEXES:
        errors.append(f"HL {hl}: 2010BA DMG needs D8, a birth date and a sex code (F, M, U)")
    return errors
