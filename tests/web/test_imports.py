"""The Imports page: a biller or admin uploads the month's files (and the plan's MIF and 834)
through the same services as the CLI; the page shows what was accepted and each rejected row
with its line, column and reason, and the rejects CSV is the CLI's own file."""

from __future__ import annotations

import csv
import io
import re
import threading
import time
from collections.abc import Iterator
from html import unescape

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from ecmbill.store import models
from ecmbill.store.db import unit_of_work
from ecmbill.web.pages import imports as imports_page
from tests.exchange.builders import Member834, build_834, mif_header, mif_row
from tests.web.conftest import Clients, csrf_of

TIME = """entry_id,staff_id,member_id,date,minutes,activity,modality
W1,S1,91234567A,2026-10-12,45,care_coordination,in_person
W2,S1,91234567A,2026-10-13,abc,care_coordination,in_person
W3,S2,92345678B,2026-10-14,30,care_coordination,telephonic
"""


def text_of(html: str) -> str:
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


def upload(client: TestClient, kind: str, name: str, content: bytes, **fields: str):  # type: ignore[no-untyped-def]
    token = csrf_of(client.get("/imports").text)
    return client.post(
        "/imports",
        data={"csrf_token": token, "kind": kind, **fields},
        files={"file": (name, content, "text/csv")},
        follow_redirects=False,
    )


def finished(client: TestClient, response) -> str:  # type: ignore[no-untyped-def]
    """The import's page once the import is done (it runs in a worker thread)."""
    assert response.status_code == 303, response.text
    where = response.headers["location"]
    deadline = time.monotonic() + 60
    while True:
        fragment = client.get(f"{where}?fragment=true")
        assert fragment.status_code == 200
        if 'hx-trigger="every 1s"' not in fragment.text:
            break
        assert time.monotonic() < deadline, "the import did not finish"
        time.sleep(0.05)
    page = client.get(where)
    assert page.status_code == 200
    return page.text


def entry_ids(engine: Engine) -> set[str]:
    with unit_of_work(engine) as session:
        return set(session.scalars(select(models.TimeEntry.entry_id)))


def test_a_biller_imports_time_and_sees_the_rejected_row_with_line_column_and_reason(
    clients: Clients, world: Engine
) -> None:
    bill = clients.as_user("bill")
    sent = upload(bill, "time", "october time.csv", TIME.encode())
    page = finished(bill, sent)
    words = text_of(page)
    assert "3 rows read: 2 accepted, 1 rejected." in words
    rejects = re.search(r'<table id="rejects">.*?</table>', page, re.S)
    assert rejects is not None
    reason = re.search(r'<td class="num">3</td><td>minutes</td><td>([^<]+)</td>', rejects[0])
    assert reason is not None
    assert {"W1", "W3"} <= entry_ids(world) and "W2" not in entry_ids(world)
    link = re.search(r'href="(/imports/[^"]+/rejects\.csv)"', page)
    assert link is not None
    download = bill.get(link[1])
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    assert "october_time.rejects.csv" in download.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(download.text)))
    assert rows[0][:3] == ["line", "column", "reason"]
    assert rows[1][:4] == ["3", "minutes", unescape(reason[1]), "W2"]


def test_the_import_is_audited_as_the_web_user_who_uploaded_the_file(
    clients: Clients, world: Engine
) -> None:
    bill = clients.as_user("bill")
    finished(bill, upload(bill, "time", "time.csv", TIME.encode()))
    with unit_of_work(world) as session:
        actors = set(
            session.scalars(
                select(models.AuditRecord.actor).where(models.AuditRecord.entity == "time")
            )
        )
        batches = set(session.scalars(select(models.ImportBatch.actor)))
    assert "web:bill" in actors
    assert "web:bill" in batches


def test_a_file_that_cannot_be_read_imports_nothing_and_says_why(
    clients: Clients, world: Engine
) -> None:
    ada = clients.as_user("ada")  # an admin imports too
    before = entry_ids(world)
    sent = upload(ada, "time", "time.csv", b"entry,who\nW9,S1\n")
    words = text_of(finished(ada, sent))
    assert "Nothing imported" in words and "columns for time" in words
    assert entry_ids(world) == before


def test_only_who_uploaded_the_file_sees_its_result_and_rejected_rows(clients: Clients) -> None:
    bill = clients.as_user("bill")
    sent = upload(bill, "time", "time.csv", TIME.encode())
    finished(bill, sent)
    where = sent.headers["location"]
    ada = clients.as_user("ada")
    assert ada.get(where).status_code == 404
    assert ada.get(f"{where}/rejects.csv").status_code == 404
    assert bill.get("/imports/not-a-job").status_code == 404


def test_a_missing_choice_or_file_is_named_beside_its_field(clients: Clients) -> None:
    bill = clients.as_user("bill")
    token = csrf_of(bill.get("/imports").text)
    response = bill.post("/imports", data={"csrf_token": token, "kind": "invoices"})
    assert response.status_code == 422
    assert 'id="e-kind"' in response.text and 'id="e-file"' in response.text
    wrong_month = upload(bill, "members", "m.csv", b"x", period="2026-10")
    assert wrong_month.status_code == 422
    assert "only a time or outreach file replaces a month" in wrong_month.text


def test_an_upload_over_the_limit_is_refused_and_nothing_is_kept(
    clients: Clients, monkeypatch: pytest.MonkeyPatch
) -> None:
    bill = clients.as_user("bill")
    monkeypatch.setattr(imports_page, "MAX_FILE_BYTES", 100)
    monkeypatch.setattr(imports_page, "FORM_OVERHEAD", 0)
    big = TIME.encode() * 10
    response = upload(bill, "time", "time.csv", big)
    assert response.status_code == 413  # refused from its declared length, before reading
    assert "larger than" in response.text
    # A length under the form's allowance, a file over the limit: refused while copied.
    monkeypatch.setattr(imports_page, "FORM_OVERHEAD", 1_000_000)
    response = upload(bill, "time", "time.csv", big)
    assert response.status_code == 413
    jobs = imports_page.jobs_of(bill)  # type: ignore[arg-type]
    assert all(job.kind != "time" or not job.running for job in jobs._jobs.values())


def test_an_upload_without_a_declared_length_is_refused_unread(clients: Clients) -> None:
    bill = clients.as_user("bill")
    token = csrf_of(bill.get("/imports").text)

    def chunks() -> Iterator[bytes]:
        yield f"csrf_token={token}&kind=time".encode()

    response = bill.post(
        "/imports",
        content=chunks(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 411


def test_the_plans_mif_and_834_import_from_the_page(clients: Clients, world: Engine) -> None:
    bill = clients.as_user("bill")
    mif = io.StringIO()
    writer = csv.writer(mif)
    writer.writerow(mif_header())
    writer.writerow(mif_row("91234567A", "Garcia", "Maria", "1950-01-02"))
    writer.writerow(mif_row("9999", "Bad", "Cin", "1950-01-02"))
    words = text_of(finished(bill, upload(bill, "mif", "mif.csv", mif.getvalue().encode())))
    assert "2 rows read: 1 accepted, 1 rejected." in words
    x834 = build_834(
        [
            Member834("91234567A", "GARCIA", "MARIA", "19500102", "20260901"),
            Member834("92345678B", "LOPEZ", "JOSE", "19990101", "20260901"),  # not his birth
        ]
    )
    page = finished(bill, upload(bill, "834", "plan.834", x834.encode()))
    assert "2 member loops read: 1 imported" in text_of(page)
    assert "birth date does not match" in page
    link = re.search(r'href="(/imports/[^"]+/rejects\.csv)"', page)
    assert link is not None
    rows = list(csv.reader(io.StringIO(bill.get(link[1]).text)))
    assert rows[0] == ["segment", "element", "reason"]
    assert rows[1][1:] == ["DMG02", "birth date does not match the member on file: check the CIN"]


def test_the_import_status_is_a_fragment_the_page_polls(clients: Clients) -> None:
    bill = clients.as_user("bill")
    sent = upload(bill, "time", "time.csv", TIME.encode())
    finished(bill, sent)
    fragment = bill.get(f"{sent.headers['location']}?fragment=true").text
    assert fragment.lstrip().startswith('<section id="import-status"')
    assert "<html" not in fragment


def test_a_running_import_shows_the_rows_checked_and_the_server_keeps_answering(
    clients: Clients,
) -> None:
    """The import runs in a worker thread: while it runs (here held on an event), the page
    shows how far it got and asks again every second, and other pages still answer."""
    bill = clients.as_user("bill")
    jobs = imports_page.jobs_of(bill)  # type: ignore[arg-type]
    job = jobs.new("bill", "time", "big.csv")
    release = threading.Event()

    def run(job: imports_page.ImportJob) -> None:
        job.progress(250_000, 1_000_000)
        release.wait(timeout=30)
        job.failed = True

    jobs.start(job, run)
    try:
        deadline = time.monotonic() + 10
        while job.done == 0 and time.monotonic() < deadline:
            time.sleep(0.01)
        page = bill.get(f"/imports/{job.id}")
        assert "250,000 of 1,000,000 rows checked." in text_of(page.text)
        assert 'hx-trigger="every 1s"' in page.text
        assert bill.get("/imports").status_code == 200
    finally:
        release.set()
    deadline = time.monotonic() + 10
    while job.running and time.monotonic() < deadline:
        time.sleep(0.01)
    stopped = text_of(bill.get(f"/imports/{job.id}").text)
    assert "The import stopped on an error: nothing was imported." in stopped
