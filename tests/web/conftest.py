"""A small provider for the web tests: two care managers in different teams, a supervisor,
a biller and an admin, three members, and the web app over a real database."""

from __future__ import annotations

import re
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pyotp
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from ecmbill.contract import Contract, default_contract
from ecmbill.imports.service import import_file
from ecmbill.store import models
from ecmbill.store.db import open_store
from ecmbill.web import accounts, create_app
from ecmbill.web.accounts import UserRole
from tests.conftest import TODAY, Databases

PASSWORD = "correct-horse-battery-7"
# The MFA secret of the seeded users whose role requires MFA (biller, admin); ``mfa_code``
# gives the code their authenticator app would show now.
MFA_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def mfa_code(secret: str = MFA_SECRET) -> str:
    return pyotp.TOTP(secret).now()


def next_mfa_code(engine: Engine, username: str, secret: str = MFA_SECRET) -> str:
    """The code a user types at their next login: each code is accepted once, so when the
    current 30-second step's code was used already (at enrolment or an earlier login), the
    next step's, as the app shows it 30 seconds later. The server accepts one step of clock
    drift either way, so that code is typed at once when it is one step ahead; two steps
    ahead (a third login within the same 30 seconds), this waits for the next step."""
    totp = pyotp.TOTP(secret)
    with engine.connect() as connection:
        last = connection.execute(
            select(models.User.totp_last_step).where(models.User.username == username)
        ).scalar()
    while True:
        now = time.time()
        step = totp.timecode(datetime.fromtimestamp(now, UTC))
        wanted = step if last is None or last < step else last + 1
        if wanted <= step + 1:
            return totp.generate_otp(wanted)
        time.sleep(totp.interval - now % totp.interval + 0.05)


FILES = {
    "staff": """staff_id,name,role,npi,effective_from,effective_to
S1,Ana Field,clinical,1698797309,,
S2,Ben Road,non_clinical,,,
S3,Cleo Lead,clinical,1978753477,,
""",
    "members": """member_id,first_name,last_name,birth_date,address,city,state,zip,sex
91234567A,Maria,Garcia,1950-01-02,12 Main St,El Centro,CA,92243,F
92345678B,Jose,Lopez,1962-03-04,40 Palm Ave,Calexico,CA,92231,M
93456789C,Rosa,Nguyen,1971-05-06,7 Oak Rd,Brawley,CA,92227,F
""",
    "eligibility": """member_id,month,eligible
91234567A,2026-10,true
91234567A,2026-11,true
92345678B,2026-10,true
92345678B,2026-11,true
93456789C,2026-10,true
93456789C,2026-11,true
""",
    "enrollments": """member_id,start_date,end_date
91234567A,2026-01-01,
92345678B,2026-02-01,
""",
    "time": """entry_id,staff_id,member_id,date,minutes,activity,modality,note
E1,S1,91234567A,2026-10-05,50,care_coordination,in_person,
E2,S2,92345678B,2026-10-06,30,care_coordination,telephonic,
E3,S2,93456789C,2026-10-07,20,care_coordination,in_person,
""",
}
# username -> (role, staff_id, team)
USERS: dict[str, tuple[UserRole, str | None, str | None]] = {
    "ana": (UserRole.STAFF, "S1", "north"),
    "ben": (UserRole.STAFF, "S2", "south"),
    "cleo": (UserRole.SUPERVISOR, "S3", "north"),
    "bill": (UserRole.BILLER, None, None),
    "ada": (UserRole.ADMIN, None, None),
}
ROLE_USER = {
    UserRole.STAFF: "ana",
    UserRole.SUPERVISOR: "cleo",
    UserRole.BILLER: "bill",
    UserRole.ADMIN: "ada",
}


def seed(engine: Engine, contract: Contract, folder: Path) -> None:
    for kind, text in FILES.items():
        path = folder / f"{kind}.csv"
        path.write_text(text, encoding="utf-8")
        result = import_file(engine, kind, path, contract, actor="test", today=TODAY)
        assert result.exit_code == 0, result.rejections
    for username, (role, staff_id, team) in USERS.items():
        account = accounts.add_user(
            engine,
            username=username,
            password=PASSWORD,
            role=role,
            actor="test",
            staff_id=staff_id,
            team=team,
        )
        if accounts.mfa_required(role):
            accounts.enrol_mfa(engine, account, MFA_SECRET, mfa_code())


@pytest.fixture(scope="session")
def seeded_database(databases: Databases, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Seeded once per test run (password hashing is slow on purpose); each test gets a copy
    (``databases.copy_of``). Its engine is disposed: PostgreSQL copies only an unused template."""
    url = databases.migrated_url()
    engine = open_store(url)
    seed(engine, default_contract(), tmp_path_factory.mktemp("seeded"))
    engine.dispose()
    return url


@pytest.fixture
def world(seeded_database: str, databases: Databases) -> Iterator[Engine]:
    url = databases.copy_of(seeded_database)
    engine = open_store(url)
    yield engine
    engine.dispose()
    databases.drop(url)


@pytest.fixture
def app(world: Engine) -> FastAPI:
    return create_app(world, today=lambda: TODAY)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def csrf_of(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF token"
    return match[1]


def log_in(client: TestClient, username: str, password: str = PASSWORD) -> TestClient:
    """Through the login form; for a user with MFA, the code step too (the seeded secret)."""
    token = csrf_of(client.get("/login").text)
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    if response.headers["location"].startswith("/login/code"):
        engine = client.app.state.site.engine  # type: ignore[attr-defined]
        response = client.post(
            "/login/code",
            data={"code": next_mfa_code(engine, username), "csrf_token": token},
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text
    if response.headers["location"] == "/account/mfa":
        # A biller or admin a test added without MFA: set it up with the known secret.
        page = client.get("/account/mfa").text
        enrolled = client.post(
            "/account/mfa",
            data={"secret": MFA_SECRET, "code": mfa_code(), "csrf_token": csrf_of(page)},
        )
        assert enrolled.status_code == 200, enrolled.text
    return client


@dataclass
class Clients:
    app: FastAPI

    def anonymous(self) -> TestClient:
        return TestClient(self.app)

    def as_user(self, username: str) -> TestClient:
        return log_in(TestClient(self.app), username)


@pytest.fixture
def clients(app: FastAPI) -> Iterator[Clients]:
    yield Clients(app)


LoggedIn = Callable[[str], TestClient]
