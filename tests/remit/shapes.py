"""835s in the shapes real payers send, made from the hand-written fixtures: other delimiters,
line ends, no envelope, lower-case ids, a missing PER or BPR16, several interchanges."""

from __future__ import annotations

from pathlib import Path

FIXTURES = Path(__file__).with_name("fixtures")


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def segments_of(text: str) -> list[str]:
    """The fixture's segments in the standard delimiters (* : ~ with ^ repetition)."""
    return [s.strip() for s in text.split("~") if s.strip()]


def written(
    segments: list[str],
    *,
    element: str = "*",
    component: str = ":",
    terminator: str = "~",
    repetition: str = "^",
    line_end: str = "\n",
) -> str:
    """The segments with other delimiters. The ISA keeps its fixed width: each delimiter is
    one character, so the ISA16 component separator stays at position 104."""
    out = []
    for segment in segments:
        if segment.startswith("ISA"):
            parts = segment.split("*")
            parts[11], parts[16] = repetition, component
            out.append(element.join(parts))
        else:
            out.append(segment.replace("*", element).replace(":", component))
    return "".join(f"{s}{terminator}{line_end}" for s in out)


def without(segments: list[str], *starts: str) -> list[str]:
    """The segments less those starting with any of ``starts``, with SE01 counted again."""
    kept = [s for s in segments if not any(s.startswith(start) for start in starts)]
    return recount(kept)


def replaced(segments: list[str], old: str, new: str) -> list[str]:
    return recount([s.replace(old, new) for s in segments])


def recount(segments: list[str]) -> list[str]:
    """SE01 of every transaction set to its number of segments, ST to SE."""
    out: list[str] = []
    start = 0
    for segment in segments:
        if segment.startswith("ST*"):
            start = len(out)
        if segment.startswith("SE*"):
            control = segment.split("*")[2]
            segment = f"SE*{len(out) - start + 1}*{control}"
        out.append(segment)
    return out


def transaction(segments: list[str]) -> list[str]:
    """Only ST..SE."""
    first = next(i for i, s in enumerate(segments) if s.startswith("ST*"))
    last = next(i for i, s in enumerate(segments) if s.startswith("SE*"))
    return segments[first : last + 1]


def envelope(transactions: list[list[str]], control: int, group: int) -> list[str]:
    """One ISA/GS around these transactions (each renumbered ST02 = 0001, 0002...)."""
    isa = (
        f"ISA*00*          *00*          *ZZ*TESTPLAN       *ZZ*ECMTEST        *261120*1200*^*"
        f"00501*{control:09d}*0*T*:"
    )
    body: list[str] = []
    for number, segments in enumerate(transactions, start=1):
        st02 = f"{number:04d}"
        for segment in segments:
            if segment.startswith("ST*"):
                segment = f"ST*835*{st02}"
            elif segment.startswith("SE*"):
                segment = f"SE*{segment.split('*')[1]}*{st02}"
            body.append(segment)
    return [
        isa,
        f"GS*HP*TESTPLAN*ECMTEST*20261120*1200*{group}*X*005010X221A1",
        *body,
        f"GE*{len(transactions)}*{group}",
        f"IEA*1*{control:09d}",
    ]
