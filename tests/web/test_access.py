"""Every route checks the role on the server: the page × role matrix, at the HTTP level."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from ecmbill.web.accounts import UserRole
from tests.web.conftest import ROLE_USER, Clients, csrf_of
from tests.web.routes import app_routes

STAFF, SUPERVISOR, BILLER, ADMIN = UserRole
PAGES: dict[str, set[UserRole]] = {
    "/time": {STAFF, SUPERVISOR},
    "/field": {STAFF, SUPERVISOR},
    "/team?period=2026-10": {SUPERVISOR},
    "/team/S1?period=2026-10": {SUPERVISOR},
    "/outreach": {STAFF, SUPERVISOR},
    "/members": {STAFF, SUPERVISOR, BILLER},
    "/members/91234567A?period=2026-10": {STAFF, SUPERVISOR, BILLER},
    "/members/search?member_id=Gar": {STAFF, SUPERVISOR, BILLER},
    "/billing?period=2026-10": {BILLER},
    "/billing/chart.svg?period=2026-10": {BILLER},
    "/billing/history?period=2026-10": {BILLER},
    "/billing/reopen": {ADMIN},
    "/remittances": {BILLER},
    "/remittances?status=denied&sort=outstanding&dir=desc&page=2": {BILLER},
    "/remittances/denials": {BILLER},
    "/remittances/denials?reason=177&status=all&age=90%2B&sort=amount": {BILLER},
    "/audit": {SUPERVISOR, BILLER, ADMIN},
    "/corrections?member_id=91234567A&staff_id=S1": {BILLER, ADMIN},
    "/admin": {ADMIN},
    "/imports": {BILLER, ADMIN},
    "/settings": {ADMIN},
    "/admin/access?user=ana&kind=login&start=2026-01-01&end=2026-12-31": {ADMIN},
    "/account": set(UserRole),
    "/account/password": set(UserRole),
    "/account/mfa": set(UserRole),
}
# Files a role may download; in this small world some answer "nothing to download" (409).
DOWNLOADS: dict[str, set[UserRole]] = {
    "/billing/files/otf?period=2026-10": {BILLER},
    "/billing/files/rtf?period=2026-10": {BILLER},
    "/audit/export?fmt=csv": {SUPERVISOR, BILLER, ADMIN},
    "/admin/access/export?fmt=xlsx": {ADMIN},
    "/remittances/export.csv": {BILLER},
    "/remittances/export.xlsx?period=2026-10": {BILLER},
    "/remittances/denials/export.csv": {BILLER},
    "/remittances/denials/export.xlsx?status=open": {BILLER},
    "/billing/not-billed.csv?period=2026-10": {BILLER},
    "/billing/not-billed.xlsx?period=2026-10": {BILLER},
}
API: dict[str, set[UserRole]] = {
    "/api/time-entries": {STAFF, SUPERVISOR},
    "/api/outreach": {STAFF, SUPERVISOR},
    "/api/members?q=Gar": {STAFF, SUPERVISOR, BILLER},
    "/api/members/91234567A": {STAFF, SUPERVISOR, BILLER},
    "/api/periods/2026-10/preview": {BILLER},
}
FORMS: dict[str, set[UserRole]] = {
    "/time": {STAFF, SUPERVISOR},
    "/time/verdict": {STAFF, SUPERVISOR},
    "/outreach": {STAFF, SUPERVISOR},
    "/outreach/verdict": {STAFF, SUPERVISOR},
    "/admin/users": {ADMIN},
    "/admin/users/ana/active": {ADMIN},
    "/admin/users/ana": {ADMIN},
    "/admin/users/ana/password": {ADMIN},
    "/admin/users/ana/mfa": {ADMIN},
    "/account/password": set(UserRole),
    "/account/mfa": set(UserRole),
    "/members/93456789C/glass": {STAFF, SUPERVISOR, BILLER},
    "/members/93456789C/plan": {BILLER, ADMIN},
    "/time/E1/approve": {SUPERVISOR},
    "/team/S1/approve": {SUPERVISOR},
    "/billing/close": {BILLER},
    "/billing/late/1/accept": {BILLER},
    "/billing/late/1/refuse": {BILLER},
    "/billing/reopen": {ADMIN},
    "/billing/export/837p": {BILLER},
    "/billing/export/csv": {BILLER},
    "/billing/export/xlsx": {BILLER},
    "/remittances": {BILLER},
    "/remittances/denials/L1/status": {BILLER},
    "/remittances/denials/L1/resubmit": {BILLER},
    "/billing/answers": {BILLER},
    "/billing/eligibility/270": {BILLER},
    "/corrections/span": {BILLER, ADMIN},
    "/corrections/role": {BILLER, ADMIN},
    "/corrections/eligibility": {BILLER, ADMIN},
    "/corrections/delete": {BILLER, ADMIN},
    "/imports": {BILLER, ADMIN},
    "/settings": {ADMIN},
}
# A claim's page, a denial, a file of the history: this small world has none, so the biller
# is told there is none (404).
CLAIM_PAGES: dict[str, set[UserRole]] = {
    "/billing/claims/ECM000000001": {BILLER},
    "/remittances/denials/L1": {BILLER},
    "/billing/history/1": {BILLER},
}
# An import's result and rejected rows: only for who uploaded the file; others are told there
# is no such import (404), a role that may not import is refused (403).
IMPORT_PAGES: dict[str, set[UserRole]] = {
    "/imports/no-such-import": {BILLER, ADMIN},
    "/imports/no-such-import/rejects.csv": {BILLER, ADMIN},
}

# Routes open to everyone, or checked per entry rather than per role (tests below and in
# test_time.py): the access tables above list every other route.
NOT_IN_TABLES = {
    ("GET", "/login"), ("POST", "/login"), ("POST", "/logout"), ("GET", "/"),
    ("GET", "/sw.js"), ("GET", "/manifest.webmanifest"),
    ("GET", "/login/code"), ("POST", "/login/code"),
    ("GET", "/time/{entry_id}"), ("POST", "/time/{entry_id}"), ("POST", "/time/{entry_id}/delete"),
}  # fmt: skip


def test_every_route_of_the_app_is_in_an_access_table(app: FastAPI) -> None:
    listed = [
        ("GET", path.split("?")[0]) for path in [*PAGES, *DOWNLOADS, *CLAIM_PAGES, *IMPORT_PAGES]
    ]
    listed += [("POST", path) for path in FORMS]
    routes = app_routes(app)
    assert len(routes) > 30  # the pages, forms, downloads and the API: not an empty walk
    for route in routes:
        if route.path.startswith("/api/"):
            continue  # the API (its own table), static files, the OpenAPI document
        for method in route.methods:
            if (method, route.path) in NOT_IN_TABLES:
                continue
            assert any(verb == method and route.path_regex.match(path) for verb, path in listed), (
                f"{method} {route.path} is in no access table"
            )


@pytest.mark.parametrize("path", [*PAGES, *DOWNLOADS, *CLAIM_PAGES, *IMPORT_PAGES, "/", "/time/E1"])
def test_an_anonymous_request_to_any_page_is_redirected_to_login(
    clients: Clients, path: str
) -> None:
    response = clients.anonymous().get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


def test_the_login_page_is_open_to_everyone(clients: Clients) -> None:
    response = clients.anonymous().get("/login")
    assert response.status_code == 200
    assert 'type="password"' in response.text


def test_the_installable_app_files_are_open_to_everyone_and_hold_no_data(
    clients: Clients,
) -> None:
    """The browser fetches the service worker and the manifest without the session cookie;
    they are the same for everyone and name no member."""
    anonymous = clients.anonymous()
    worker = anonymous.get("/sw.js")
    assert worker.status_code == 200
    assert worker.headers["service-worker-allowed"] == "/"
    manifest = anonymous.get("/manifest.webmanifest")
    assert manifest.status_code == 200
    assert manifest.json()["start_url"] == "/field"


def test_every_page_answers_each_role_as_the_access_table_says(clients: Clients) -> None:
    for role, username in ROLE_USER.items():
        client = clients.as_user(username)
        for path, allowed in PAGES.items():
            response = client.get(path, follow_redirects=False)
            expected = 200 if role in allowed else 403
            assert response.status_code == expected, (role, path, response.status_code)


def test_every_download_answers_each_role_as_the_access_table_says(clients: Clients) -> None:
    for role, username in ROLE_USER.items():
        client = clients.as_user(username)
        for path, allowed in DOWNLOADS.items():
            response = client.get(path, follow_redirects=False)
            if role in allowed:
                assert response.status_code in (200, 409), (role, path, response.status_code)
            else:
                assert response.status_code == 403, (role, path, response.status_code)
                assert "content-disposition" not in response.headers


def test_a_claim_page_answers_each_role_as_the_access_table_says(clients: Clients) -> None:
    for role, username in ROLE_USER.items():
        client = clients.as_user(username)
        for path, allowed in {**CLAIM_PAGES, **IMPORT_PAGES}.items():
            expected = 404 if role in allowed else 403
            assert client.get(path).status_code == expected, (role, path)


def test_an_anonymous_form_post_is_sent_to_login_and_changes_nothing(clients: Clients) -> None:
    anonymous = clients.anonymous()
    for path in FORMS:
        response = anonymous.post(path, data={"period": "2026-10"}, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login")


def test_every_api_route_answers_each_role_as_the_access_table_says(clients: Clients) -> None:
    anonymous = clients.anonymous()
    for path in [*API, "/api/me"]:
        assert anonymous.get(path).status_code == 401, path
    for role, username in ROLE_USER.items():
        client = clients.as_user(username)
        assert client.get("/api/me").json()["role"] == role.value
        for path, allowed in API.items():
            response = client.get(path)
            expected = 200 if role in allowed else 403
            assert response.status_code == expected, (role, path, response.status_code)


def test_every_form_refuses_a_role_that_may_not_use_it(clients: Clients) -> None:
    for role, username in ROLE_USER.items():
        client = clients.as_user(username)
        token = client.get("/api/me").json()["csrf_token"]
        for path, allowed in FORMS.items():
            response = client.post(path, data={"csrf_token": token}, follow_redirects=False)
            if role in allowed:
                assert response.status_code != 403, (role, path)
            else:
                assert response.status_code == 403, (role, path, response.status_code)


def test_the_menu_shows_only_the_pages_a_role_may_open(clients: Clients) -> None:
    page = clients.as_user("ana").get("/time").text
    assert 'href="/time"' in page and 'href="/members"' in page
    assert 'href="/billing"' not in page and 'href="/admin"' not in page


def test_a_staff_member_cannot_open_or_change_another_staff_members_entry(
    clients: Clients,
) -> None:
    ana = clients.as_user("ana")
    assert ana.get("/time/E1").status_code == 200  # her own
    assert ana.get("/time/E2").status_code == 403  # Ben's
    token = csrf_of(ana.get("/time").text)
    changed = ana.post(
        "/time/E2",
        data={
            "csrf_token": token,
            "member_id": "92345678B",
            "date": "2026-10-06",
            "minutes": "300",
            "activity": "care_coordination",
            "modality": "telephonic",
        },
    )
    assert changed.status_code == 403
    assert ana.post("/time/E2/delete", data={"csrf_token": token}).status_code == 403
    entries = ana.get("/api/time-entries?start=2026-10-01&end=2026-10-31").json()
    assert {e["staff_id"] for e in entries} == {"S1"}


def test_a_supervisor_sees_the_teams_entries_but_not_other_teams(clients: Clients) -> None:
    cleo = clients.as_user("cleo")
    team_entry = cleo.get("/time/E1")
    assert team_entry.status_code == 200
    assert "Save changes" not in team_entry.text  # read-only: she does not edit Ana's time
    assert cleo.get("/time/E2").status_code == 403
    entries = cleo.get("/api/time-entries?start=2026-10-01&end=2026-10-31").json()
    assert {e["entry_id"] for e in entries} == {"E1"}


def test_the_openapi_document_lists_the_api(clients: Clients) -> None:
    paths = clients.anonymous().get("/api/openapi.json").json()["paths"]
    assert {
        "/api/time-entries",
        "/api/outreach",
        "/api/members",
        "/api/periods/{period}/preview",
    } <= set(paths)
