"""Remittances in the web: a biller uploads an 835 (the hand-written fixtures of tests/remit,
answering the claims of tests/claims/world.py) and sees the reconciliation, the denials by
reason and the ageing; a bad file is refused with its segment and without PHI."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from ecmbill.contract import Contract
from ecmbill.store import models
from ecmbill.store.db import open_store, unit_of_work
from ecmbill.web import accounts, create_app
from ecmbill.web.accounts import UserRole
from tests.claims.world import B, add_time, configure, load
from tests.conftest import TODAY, Databases
from tests.web.conftest import PASSWORD, csrf_of, log_in

FIXTURES = Path(__file__).parents[1] / "remit" / "fixtures"


@pytest.fixture
def claimed(
    tmp_path: Path, contract: Contract, databases: Databases
) -> Iterator[tuple[Engine, TestClient]]:
    """October closed and sent as an 837P through the web, by a biller."""
    engine = open_store(databases.new_url())
    load(engine, tmp_path, contract)
    configure(engine)
    accounts.add_user(engine, username="bill", password=PASSWORD, role=UserRole.BILLER,
                      actor="test")  # fmt: skip
    bill = log_in(TestClient(create_app(engine, today=lambda: TODAY)), "bill")
    token = csrf_of(bill.get("/billing?period=2026-10").text)
    closing = {"csrf_token": token, "period": "2026-10", "confirm": "yes"}
    assert bill.post("/billing/close", data=closing).is_success
    sent = bill.post("/billing/export/837p", data={"csrf_token": token, "period": "2026-10"})
    assert sent.status_code == 200
    yield engine, bill
    engine.dispose()


def upload(client: TestClient, name: str, content: bytes, token: str | None = None):  # type: ignore[no-untyped-def]
    token = token if token is not None else csrf_of(client.get("/remittances").text)
    return client.post(
        "/remittances",
        data={"csrf_token": token} if token else {},
        files={"file": (name, content, "application/octet-stream")},
    )


def text_of(html: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def row_of(html: str, pcn: str) -> str:
    match = re.search(rf"<tr class=\"claim[^\"]*\"><th scope=\"row\">{pcn}.*?</tr>", html, re.S)
    assert match, f"no reconciliation row for {pcn}"
    return text_of(match[0])


def remittances_posted(engine: Engine) -> int:
    with unit_of_work(engine) as session:
        return int(session.scalar(select(func.count()).select_from(models.Remittance)) or 0)


def test_an_uploaded_835_is_posted_and_the_claim_shows_as_paid(
    claimed: tuple[Engine, TestClient],
) -> None:
    engine, bill = claimed
    before = bill.get("/remittances").text
    assert "4 claim(s): 0 paid, 0 partial, 0 denied, 0 reversed, 4 no answer yet." in (
        text_of(before)
    )
    page = upload(bill, "october-payment.835", (FIXTURES / "full_payment.835").read_bytes())
    assert page.status_code == 200
    result = text_of(page.text.split('id="upload-result"')[1].split("</div>")[0])
    assert "TRN CHK-1001 posted : payment 100.00; 1 claim answer(s)" in result
    assert "lines matched 1" in result
    paid = row_of(page.text, "ECM000000001")
    assert "paid 100.00 100.00 0.00 0.00 0.00" in paid
    assert "no answer yet" in row_of(page.text, "ECM000000002")
    with unit_of_work(engine) as session:
        stored = session.scalars(select(models.Remittance)).one()
        assert (stored.file_name, stored.actor) == ("october-payment.835", "web:bill")


def test_denials_are_grouped_by_carc_with_the_description_and_ageing_is_shown(
    claimed: tuple[Engine, TestClient],
) -> None:
    _, bill = claimed
    page = upload(bill, "denial.835", (FIXTURES / "denial.835").read_bytes()).text
    assert "denied 75.00 0.00 75.00 0.00 0.00" in row_of(page, "ECM000000002")
    denials = text_of(page.split('id="denials-table"')[1].split("</table>")[0])
    assert re.search(r"177 .*eligib.* 1 75\.00", denials, re.I), denials
    ageing = text_of(page.split('id="ageing-table"')[1].split(">", 1)[1].split("</table>")[0])
    assert ageing.split() == ["0-30", "days", "31-60", "days", "61-90", "days", "90+", "days",
                              "3", "0", "0", "0"]  # fmt: skip


def test_the_same_835_uploaded_again_changes_nothing_and_says_so(
    claimed: tuple[Engine, TestClient],
) -> None:
    engine, bill = claimed
    content = (FIXTURES / "full_payment.835").read_bytes()
    upload(bill, "first.835", content)
    again = upload(bill, "renamed.835", content)
    assert again.status_code == 200
    assert "TRN CHK-1001 was imported before: nothing changed." in again.text
    assert remittances_posted(engine) == 1


def test_a_truncated_835_is_refused_with_the_segment_no_phi_and_nothing_posted(
    claimed: tuple[Engine, TestClient],
) -> None:
    engine, bill = claimed
    text = (FIXTURES / "partial_payment.835").read_text()
    refused = upload(bill, "../../cut.835", text[: text.index("SVC*HC:G9012")].encode())
    assert refused.status_code == 422
    problem = text_of(refused.text.split('id="problem"')[1].split("</div>")[0])
    assert "Cut.835 was not imported; nothing was posted." in problem
    assert "the file is truncated: it ends after segment 16" in problem
    for phi in ("91234567A", "92345678B", "93456789C", "MemberA", "MEMBERA"):
        assert phi not in problem
    assert remittances_posted(engine) == 0


def test_an_upload_without_a_file_or_with_an_empty_one_is_refused(
    claimed: tuple[Engine, TestClient],
) -> None:
    engine, bill = claimed
    token = csrf_of(bill.get("/remittances").text)
    nothing = bill.post("/remittances", data={"csrf_token": token})
    assert nothing.status_code == 422 and "Choose an 835 file to upload." in nothing.text
    empty = upload(bill, "empty.835", b"", token)
    assert empty.status_code == 422 and "The file is empty." in empty.text
    garbage = upload(bill, "notes.txt", b"not an 835 at all\n", token)
    assert garbage.status_code == 422 and "nothing was posted" in garbage.text
    binary = upload(bill, "remit.pdf", b"%PDF-1.4\n" + bytes(range(256)), token)
    assert binary.status_code == 422 and "it is not plain text" in binary.text
    assert remittances_posted(engine) == 0


def test_an_upload_without_the_csrf_token_is_refused_and_posts_nothing(
    claimed: tuple[Engine, TestClient],
) -> None:
    engine, bill = claimed
    content = (FIXTURES / "full_payment.835").read_bytes()
    assert upload(bill, "payment.835", content, token="").status_code == 403
    assert upload(bill, "payment.835", content, token="forged").status_code == 403
    assert remittances_posted(engine) == 0


def test_the_reconciliation_can_be_limited_to_one_period(
    claimed: tuple[Engine, TestClient],
) -> None:
    _, bill = claimed
    assert "4 claim(s)" in text_of(bill.get("/remittances?period=2026-10").text)
    assert "0 claim(s)" in text_of(bill.get("/remittances?period=2026-09").text)


def test_an_upload_posted_with_warnings_shows_and_keeps_them_and_accepts_a_named_payee(
    claimed: tuple[Engine, TestClient],
) -> None:
    """The web goes through the CLI's service: same levels, same warnings, --accept-payee as a
    form field."""
    engine, bill = claimed
    text = (FIXTURES / "full_payment.835").read_text()
    no_per = text.replace("PER*BL*PROVIDER SERVICES*TE*8005550100~\n", "").replace(
        "SE*15*", "SE*14*"
    )
    page = upload(bill, "no-per.835", no_per.encode())
    assert page.status_code == 200
    warning = (
        "ST 0001 (TRN CHK-1001), segment 6 (N1): the payer's technical contact (PER*BL) is missing"
    )
    result = text_of(page.text.split('id="upload-result"')[1].split("</div>")[0])
    assert "Posted with 1 warning(s)" in result and warning in result
    kept = text_of(bill.get("/remittances").text.split('id="warned"')[1].split("</section>")[0])
    assert "TRN CHK-1001 (no-per.835" in kept and warning in kept
    other = text.replace("*XX*1245319599", "*XX*1003000126").replace("CHK-1001", "CHK-2001")
    refused = upload(bill, "other.835", other.encode())
    assert refused.status_code == 422 and "--accept-payee 1003000126" in text_of(refused.text)
    assert remittances_posted(engine) == 1
    token = csrf_of(bill.get("/remittances").text)
    accepted = bill.post(
        "/remittances",
        data={"csrf_token": token, "accept_payee": "1003000126"},
        files={"file": ("other.835", other.encode(), "application/octet-stream")},
    )
    assert accepted.status_code == 200 and remittances_posted(engine) == 2
    assert "accepted with --accept-payee" in text_of(accepted.text)


# Money, the denial work list, the claim page, exports (issue 15) --------------------------


def test_the_money_is_shown_by_period_and_in_total(claimed: tuple[Engine, TestClient]) -> None:
    """Billed 100 + 75 + 275 + 65 = 515.00; after the denial of B's 75.00 (CO 177):
    paid 0, contractual 75.00, outstanding 440.00."""
    _, bill = claimed
    page = upload(bill, "denial.835", (FIXTURES / "denial.835").read_bytes()).text
    money = text_of(page.split('id="money"')[1].split("</table>")[0])
    assert "2026-10 4 515.00 0.00 75.00 0.00 0.00 440.00" in money
    assert 'id="denials-chart"' in page and "Denied amount by reason" in page
    assert "Billed vs paid, month over month" in page


def test_the_reconciliation_is_paged_filtered_and_sorted(
    claimed: tuple[Engine, TestClient],
) -> None:
    _, bill = claimed
    upload(bill, "denial.835", (FIXTURES / "denial.835").read_bytes())
    denied = bill.get("/remittances?status=denied").text
    assert "Showing 1–1 of 1 denied claim(s)." in text_of(denied)
    assert "ECM000000002" in denied and 'scope="row">ECM000000003' not in denied
    by_billed = bill.get("/remittances?sort=billed&dir=desc").text
    order = re.findall(r'<tr class="claim[^"]*"><th scope="row">(ECM\d+)', by_billed)
    assert order == ["ECM000000003", "ECM000000001", "ECM000000002", "ECM000000004"]


def test_a_denial_is_worked_in_the_web_written_off_with_a_note_and_shown_on_the_claim(
    claimed: tuple[Engine, TestClient],
) -> None:
    _, bill = claimed
    upload(bill, "denial.835", (FIXTURES / "denial.835").read_bytes())
    work = bill.get("/remittances/denials").text
    listed = text_of(work.split('id="denial-list"')[1].split("</table>")[0])
    assert "ECM000000002 line 1" in listed
    assert "CO 177: Patient has not met the eligibility requirements" in listed
    assert "remark N30: Patient ineligible for this service" in listed and "75.00" in listed
    key = re.search(r'href="/remittances/denials/(L\d+)"', work)[1]  # type: ignore[index]
    token = csrf_of(bill.get(f"/remittances/denials/{key}").text)
    blank = {"csrf_token": token, "status": "written_off", "note": ""}
    refused = bill.post(f"/remittances/denials/{key}/status", data=blank)
    assert refused.status_code == 422 and "Say why in the note" in refused.text
    saved = bill.post(f"/remittances/denials/{key}/status",
                      data={"csrf_token": token, "status": "written_off",
                            "note": "member was not eligible"}, follow_redirects=True)  # fmt: skip
    assert saved.status_code == 200 and "The status was saved." in text_of(saved.text)
    history = text_of(saved.text.split('id="history"')[1].split("</ol>")[0])
    assert "written off" in history and "web:bill" in history and "not eligible" in history
    assert "No denial matches" in bill.get("/remittances/denials").text  # open ones only
    claim = bill.get("/billing/claims/ECM000000002").text
    assert "CO 177: Patient has not met the eligibility requirements" in text_of(claim)
    assert f'href="/remittances/denials/{key}">written off' in claim


def test_resubmit_in_the_web_makes_the_corrected_claim_and_links_it(
    claimed: tuple[Engine, TestClient], tmp_path: Path, contract: Contract
) -> None:
    engine, bill = claimed
    upload(bill, "denial.835", (FIXTURES / "denial.835").read_bytes())
    key = re.search(r'href="/remittances/denials/(L\d+)"',  # type: ignore[index]
                    bill.get("/remittances/denials").text)[1]  # fmt: skip
    token = csrf_of(bill.get(f"/remittances/denials/{key}").text)
    same = bill.post(f"/remittances/denials/{key}/resubmit", data={"csrf_token": token})
    assert same.status_code == 409 and "Nothing changed in this member" in same.text
    add_time(engine, tmp_path, contract,
             [["B-2", "S2", B, "2026-10-21", "30", "care_coordination", "telephonic"]])  # fmt: skip
    sent = bill.post(f"/remittances/denials/{key}/resubmit",
                     data={"csrf_token": token, "note": "added the missed call"})  # fmt: skip
    assert sent.status_code == 200
    assert "ECM000000005 was made (new original)" in text_of(sent.text)
    status = text_of(sent.text.split('id="work-status">')[1].split("</dd>")[0]).strip()
    assert status == "corrected (replacement sent): ECM000000005"


def test_the_reconciliation_and_the_denials_export_as_formula_safe_csv_and_xlsx(
    claimed: tuple[Engine, TestClient],
) -> None:
    _, bill = claimed
    upload(bill, "denial.835", (FIXTURES / "denial.835").read_bytes())
    csv_file = bill.get("/remittances/export.csv")
    assert csv_file.status_code == 200
    assert csv_file.headers["content-disposition"].startswith('attachment; filename="ecmbill-')
    rows = csv_file.text.splitlines()
    assert rows[0].startswith("Claim,Member ID,Member,Period,Kind,Status,Billed,Paid")
    assert len(rows) == 5 and rows[2].startswith("ECM000000002,92345678B,")
    assert ",denied,75.00,0.00,75.00,0.00,0.00,0.00" in rows[2]
    xlsx = bill.get("/remittances/denials/export.xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    denials = bill.get("/remittances/denials/export.csv").text.splitlines()
    assert len(denials) == 2 and "CO 177: Patient has not met" in denials[1]
