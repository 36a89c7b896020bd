"""Outreach, members, billing, audit and admin pages."""

from __future__ import annotations

import re
from datetime import date
from html import unescape

from sqlalchemy import Engine, select
from typer.testing import CliRunner

from ecmbill.cli import app as cli
from ecmbill.contract import Contract
from ecmbill.domain.period import Period
from ecmbill.members.lifecycle import assign_lead_care_manager
from ecmbill.rating.service import rate
from ecmbill.store import models
from ecmbill.store.db import unit_of_work
from tests.web.conftest import PASSWORD, Clients, csrf_of

ATTEMPT = {
    "member_id": "93456789C",
    "date": "2026-10-09",
    "method": "phone",
    "individualized": "true",
    "outcome": "not_reached",
}


def post_outreach(client, **changes: str):  # type: ignore[no-untyped-def]
    token = csrf_of(client.get("/outreach").text)
    data = {**ATTEMPT, **changes, "csrf_token": token}
    data = {k: v for k, v in data.items() if v is not None}
    return client.post("/outreach", data=data, follow_redirects=False)


def test_an_outreach_attempt_is_recorded_and_counted_towards_unable_to_reach(
    clients: Clients, world: Engine
) -> None:
    ana = clients.as_user("ana")
    response = post_outreach(ana)
    assert response.status_code == 303
    page = ana.get(response.headers["location"]).text
    assert "Attempts that count: 1." in page
    assert "2 more outreach attempts needed" in page
    with unit_of_work(world) as session:
        (attempt,) = session.scalars(select(models.OutreachAttempt)).all()
        assert (attempt.staff_id, attempt.method, attempt.individualized) == ("S1", "phone", True)
        audit = session.scalars(
            select(models.AuditRecord).where(models.AuditRecord.entity == "outreach")
        ).one()
        assert audit.actor == "web:ana"


def test_a_mass_communication_is_refused_as_outreach_with_the_reason(
    clients: Clients, world: Engine
) -> None:
    ana = clients.as_user("ana")
    response = post_outreach(ana, method="mail", individualized=None)
    assert response.status_code == 422
    page = unescape(response.text)
    assert re.search(
        r'id="e-individualized" role="alert">not outreach: a mass communication '
        r"\(mail\) does not count as an outreach attempt",
        page,
    )
    assert 'value="93456789C"' in page  # what was typed is kept
    with unit_of_work(world) as session:
        assert session.scalars(select(models.OutreachAttempt)).all() == []


def test_outreach_to_an_enrolled_member_is_refused(clients: Clients) -> None:
    ana = clients.as_user("ana")
    response = post_outreach(ana, member_id="91234567A")
    assert response.status_code == 422
    assert "member already enrolled: record an ECM service instead" in response.text


def test_the_members_month_shows_eligibility_enrollment_and_projected_units(
    clients: Clients, world: Engine, contract: Contract
) -> None:
    assign_lead_care_manager(world, "92345678B", "S2", date(2026, 9, 1), "test")
    page = clients.as_user("bill").get("/members/92345678B?period=2026-10").text
    assert "2026-10: eligible" in page and "2026-11: eligible" in page
    assert "2026-02-01 to open" in page
    assert "<dt>Lead care manager</dt><dd>Ben Road</dd>" in page
    (line,) = rate(world, Period(2026, 10), contract).lines_for("92345678B")
    mods = " ".join(line.modifiers)
    assert (
        f'<td>{line.code} {mods}</td><td>service</td><td class="num">{line.minutes}</td>'
        f'<td class="num">{line.units}</td>' in page
    )


def test_the_billing_preview_shows_money_lines_not_billed_reasons_and_the_minutes_chart(
    clients: Clients, world: Engine, contract: Contract
) -> None:
    page = clients.as_user("bill").get("/billing?period=2026-10").text
    rating = rate(world, Period(2026, 10), contract)
    units = sum(line.units for line in rating.lines)
    expected = sum(contract.rate_for(x.code, x.modifiers) * x.units for x in rating.lines)
    # The summary is now money at a glance (issue 15): expected dollars, lines, not billed.
    assert f'id="expected-total">${expected:,.2f}</strong>' in page
    assert f"Claim lines<strong>{len(rating.lines)}</strong><small>{units} unit(s)" in page
    assert "Not billed<strong>1</strong>" in page
    # Rosa (93456789C) is not enrolled: her time is kept and says why.
    assert "not billable: member not enrolled in ECM on 2026-10-07" in page
    assert '<img src="/billing/chart.svg?period=2026-10"' in page
    assert "Close October 2026" in page and "Open." in page


def test_the_honesty_chart_is_an_svg_image_drawn_on_the_server(clients: Clients) -> None:
    chart = clients.as_user("bill").get("/billing/chart.svg?period=2026-10")
    assert chart.headers["content-type"] == "image/svg+xml"
    assert chart.text.startswith("<svg") and "hours worked" in chart.text
    assert 'href="http' not in chart.text  # nothing is loaded from elsewhere
    assert clients.as_user("ana").get("/billing/chart.svg").status_code == 403


def test_the_api_period_preview_is_the_rating(
    clients: Clients, world: Engine, contract: Contract
) -> None:
    preview = clients.as_user("bill").get("/api/periods/2026-10/preview").json()
    rating = rate(world, Period(2026, 10), contract)
    assert preview["lines"] == rating.as_json()["lines"]
    assert preview["not_billed"] == rating.as_json()["not_billed"]
    assert preview["honesty"]["service_minutes"] == sum(x.minutes for x in rating.lines)


def test_the_audit_page_lists_changes_and_offers_no_way_to_change_them(
    clients: Clients,
) -> None:
    bill = clients.as_user("bill")
    page = bill.get("/audit?entity=time").text
    assert "test" in page and "create" in page and "time E1" in page
    assert (
        '<form method="post"' not in page.split("<main", 1)[1].replace('action="/logout"', "")
        or 'method="post" action="/logout"' in page
    )
    token = csrf_of(page)
    for method in ("post", "put", "delete"):
        response = bill.request(method, "/audit", data={"csrf_token": token})
        assert response.status_code == 405


def test_an_admin_adds_a_user_and_the_password_rule_is_shown(
    clients: Clients, world: Engine
) -> None:
    ada = clients.as_user("ada")
    token = csrf_of(ada.get("/admin").text)
    short = ada.post(
        "/admin/users",
        data={"csrf_token": token, "username": "dee", "password": "short", "role": "biller"},
    )
    assert short.status_code == 422
    assert "password must be at least 12 characters" in short.text
    assert 'value="dee"' in short.text and "short" not in short.text.split("<main", 1)[1]
    added = ada.post(
        "/admin/users",
        data={
            "csrf_token": token,
            "username": "dee",
            "password": "long enough pw",
            "role": "supervisor",
            "team": "south",
        },
        follow_redirects=False,
    )
    assert added.status_code == 303
    assert re.search(
        r"<strong>dee</strong><br><span class=\"muted\">supervisor</span>", ada.get("/admin").text
    )
    with unit_of_work(world) as session:
        record = session.scalars(
            select(models.AuditRecord).where(
                models.AuditRecord.entity == "users", models.AuditRecord.entity_key == "dee"
            )
        ).one()
        assert record.actor == "web:ada" and "hash" not in (record.after or "")


def test_the_cli_creates_the_first_admin_and_refuses_a_duplicate(
    world: Engine, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("ECMBILL_NEW_PASSWORD", "first admin password")
    url = str(world.url)
    runner = CliRunner()
    first = runner.invoke(cli, ["users", "add", "root", "--role", "admin", "--database", url])
    assert first.exit_code == 0 and "User root added (admin)." in first.output
    again = runner.invoke(cli, ["users", "add", "root", "--role", "admin", "--database", url])
    assert again.exit_code == 2 and "exists already" in again.output
    listed = runner.invoke(cli, ["users", "list", "--database", url])
    assert re.search(r"root\s+│\s+admin", listed.output)


def test_a_deactivated_user_is_logged_out_and_cannot_log_in(clients: Clients) -> None:
    ben = clients.as_user("ben")
    ada = clients.as_user("ada")
    token = csrf_of(ada.get("/admin").text)
    stopped = ada.post(
        "/admin/users/ben/active",
        data={"csrf_token": token, "active": "false", "confirm": "yes"},
        follow_redirects=False,
    )
    assert stopped.status_code == 303
    assert ben.get("/time", follow_redirects=False).status_code == 303  # back to login
    client = clients.anonymous()
    login = csrf_of(client.get("/login").text)
    refused = client.post(
        "/login", data={"username": "ben", "password": PASSWORD, "csrf_token": login}
    )
    assert refused.status_code == 401
    itself = ada.post("/admin/users/ada/active", data={"csrf_token": token, "active": "false"})
    assert itself.status_code == 422


def test_a_supervisor_approves_a_team_entry_and_a_later_change_needs_a_new_approval(
    clients: Clients, world: Engine
) -> None:
    cleo = clients.as_user("cleo")
    assert "awaiting approval" in cleo.get("/team/S1?period=2026-10").text
    token = csrf_of(cleo.get("/time/E1").text)
    done = cleo.post("/time/E1/approve", data={"csrf_token": token}, follow_redirects=False)
    assert done.status_code == 303
    assert "Approved." in cleo.get("/time/E1").text
    assert "nothing awaiting approval" in cleo.get("/team?period=2026-10").text
    assert cleo.post("/time/E2/approve", data={"csrf_token": token}).status_code == 403  # south
    ana = clients.as_user("ana")
    own = csrf_of(ana.get("/time").text)
    assert ana.post("/time/E1/approve", data={"csrf_token": own}).status_code == 403
    changed = ana.post(
        "/time/E1",
        data={
            "csrf_token": own,
            "member_id": "91234567A",
            "date": "2026-10-05",
            "minutes": "65",
            "activity": "care_coordination",
            "modality": "in_person",
        },
        follow_redirects=False,
    )
    assert changed.status_code == 303
    assert "1 awaiting approval" in cleo.get("/team?period=2026-10").text
    # The change removes the approval (audited), so the rating, which reads approvals as
    # stored, never counts an approval of what the entry no longer says.
    with unit_of_work(world) as session:
        actions = session.scalars(
            select(models.AuditRecord.action)
            .where(models.AuditRecord.entity == "time_approval")
            .order_by(models.AuditRecord.id)
        ).all()
    assert actions == ["create", "delete"]
