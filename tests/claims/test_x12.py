"""The 837P writer, checked by the pyx12 validator (a real, independent X12 parser)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from ecmbill.claims.settings import parse_settings
from ecmbill.claims.x12 import ControlNumbers, OutgoingClaim, Subscriber, clean, write_837p
from ecmbill.domain.claims import ChargeLine, Frequency
from ecmbill.domain.vocabulary import Kind
from tests.claims.world import SETTINGS
from tests.claims.x12check import x12_errors

NOW = datetime(2026, 11, 25, 9, 30)


def service_line(units: int, first: date, last: date, *modifiers: str) -> ChargeLine:
    charge = Decimal(units * 100)
    return ChargeLine(Kind.SERVICE, "G9008", modifiers or ("U1",), units, charge, first, last,
                      units * 50, ("T",), "1234567893")  # fmt: skip


def claim(number: int, frequency: Frequency = Frequency.ORIGINAL, *lines: ChargeLine,
          reference: str | None = None, first: str = "Ana") -> OutgoingClaim:  # fmt: skip
    return OutgoingClaim(
        patient_control_number=f"ECM{number:09d}",
        frequency=frequency,
        original_reference=reference,
        subscriber=Subscriber(f"9123456{number % 10}A", first, "Test", date(1980, 1, 2)),
        diagnosis_code="Z598",
        place_of_service="11",
        lines=lines or (service_line(1, date(2026, 10, 5), date(2026, 10, 5)),),
    )


def written(tmp_path: Path, claims: list[OutgoingClaim], name: str = "claims.837") -> Path:
    text = write_837p(parse_settings(SETTINGS), claims, ControlNumbers(7, 8, 9), NOW,
                      {"1234567893": "Maria Lopez"})  # fmt: skip
    path = tmp_path / name
    path.write_text(text, encoding="ascii")
    return path


def segments(path: Path) -> list[str]:
    return [s.strip() for s in path.read_text().split("~") if s.strip()]


def test_a_deliberately_broken_837p_is_reported_by_pyx12(tmp_path: Path) -> None:
    good = written(tmp_path, [claim(1)])
    assert x12_errors(good) == []
    text = good.read_text()
    no_diagnosis = tmp_path / "no-hi.837"
    no_diagnosis.write_text(text.replace("HI*ABK:Z598~\n", ""))
    assert any("HI" in error for error in x12_errors(no_diagnosis))
    bad_count = tmp_path / "bad-se.837"
    bad_count.write_text(text.replace("SE*", "SE*9", 1))
    assert any("SE count" in error for error in x12_errors(bad_count))
    bad_frequency = tmp_path / "bad-clm.837"
    bad_frequency.write_text(text.replace(":B:1*", ":B:*"))
    assert x12_errors(bad_frequency) != []


def test_an_original_claim_is_valid_and_its_counts_are_right(tmp_path: Path) -> None:
    path = written(tmp_path, [claim(1)])
    assert x12_errors(path) == []
    found = segments(path)
    st, se = found.index(next(s for s in found if s.startswith("ST*"))), len(found) - 3
    assert found[se] == f"SE*{se - st + 1}*0009"
    assert found[-2:] == ["GE*1*8", "IEA*1*000000007"]
    assert found[0].split("*")[13] == "000000007" and found[1].split("*")[6] == "8"
    assert "CLM*ECM000000001*100***11:B:1*Y*A*Y*Y" in found
    assert not any(s.startswith("REF*F8") for s in found)


def test_a_replacement_carries_frequency_7_and_the_original_reference(tmp_path: Path) -> None:
    path = written(tmp_path, [claim(2, Frequency.REPLACEMENT, reference="PAYER123")])
    assert x12_errors(path) == []
    found = segments(path)
    assert found[found.index("CLM*ECM000000002*100***11:B:7*Y*A*Y*Y") + 1] == "REF*F8*PAYER123"


def test_a_void_carries_frequency_8_and_the_original_reference(tmp_path: Path) -> None:
    path = written(tmp_path, [claim(3, Frequency.VOID, reference="ECM000000001")])
    assert x12_errors(path) == []
    assert "REF*F8*ECM000000001" in segments(path)


def test_a_correction_without_a_reference_is_refused() -> None:
    with pytest.raises(ValueError, match="REF\\*F8"):
        write_837p(parse_settings(SETTINGS), [claim(2, Frequency.REPLACEMENT)],
                   ControlNumbers(1, 1, 1), NOW)  # fmt: skip


def test_several_members_each_get_their_own_subscriber_loop(tmp_path: Path) -> None:
    path = written(tmp_path, [claim(1), claim(2, first="Bo"), claim(3, first="Cy")])
    assert x12_errors(path) == []
    found = segments(path)
    assert [s for s in found if s.startswith("HL*")] == [
        "HL*1**20*1", "HL*2*1*22*0", "HL*3*1*22*0", "HL*4*1*22*0",
    ]  # fmt: skip


def test_date_ranges_use_rd8_and_single_days_use_d8(tmp_path: Path) -> None:
    lines = (
        service_line(3, date(2026, 10, 1), date(2026, 10, 31)),
        service_line(1, date(2026, 10, 7), date(2026, 10, 7), "U1", "GQ"),
    )
    path = written(tmp_path, [claim(1, Frequency.ORIGINAL, *lines)])
    assert x12_errors(path) == []
    found = segments(path)
    assert "DTP*472*RD8*20261001-20261031" in found and "DTP*472*D8*20261007" in found
    assert "SV1*HC:G9008:U1:GQ*100*UN*1***1" in found
    assert "NM1*82*1*LOPEZ*MARIA****XX*1234567893" in found


def test_names_are_written_in_plain_ascii_without_delimiters(tmp_path: Path) -> None:
    assert clean("José*María~:^ Núñez") == "JOSE MARIA NUNEZ"
    path = written(tmp_path, [claim(1, first="José*María")])
    assert x12_errors(path) == []
