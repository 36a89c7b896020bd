"""``ecmbill users set`` and ``users reset-password`` (issue 15): the same service as the
admin page, audited."""

from __future__ import annotations

import json

from ecmbill.store.db import open_store
from ecmbill.store.lookups import audit_page
from ecmbill.web import accounts
from ecmbill.web.accounts import UserRole
from tests.cli.conftest import Cli

PASSWORD = "correct-horse-battery-7"
STAFF = "staff_id,name,role,npi,effective_from,effective_to\nS1,Ana Field,clinical,1698797309,,\n"


def with_user(cli: Cli) -> None:
    assert cli("import", "staff", str(cli.file("staff.csv", STAFF))).exit_code == 0
    accounts.add_user(
        open_store(cli.database), username="ana", password=PASSWORD, role=UserRole.STAFF,
        actor="test", staff_id="S1",
    )  # fmt: skip


def test_users_set_changes_the_role_and_team_and_keeps_what_is_not_given(cli: Cli) -> None:
    with_user(cli)
    result = cli("users", "set", "ana", "--role", "supervisor", "--team", "north")
    assert result.exit_code == 0, result.output
    assert "ana: supervisor, staff S1, team north" in result.output
    engine = open_store(cli.database)
    ana = accounts.find_user(engine, "ana")
    assert (ana.role, ana.staff_id, ana.team) == (UserRole.SUPERVISOR, "S1", "north")
    record = audit_page(engine, entity="users").lines[0]
    assert (record.action, record.entity_key, record.actor) == ("update", "ana", "tester")
    assert json.loads(record.before or "{}")["role"] == "staff"
    assert cli("users", "set", "ana", "--team", "").exit_code != 0  # a supervisor needs one
    assert "needs a team" in cli("users", "set", "ana", "--team", "").output
    assert cli("users", "set", "nobody", "--role", "biller").exit_code != 0
    assert cli("users", "set", "ana", "--staff-id", "S9").exit_code != 0
    assert accounts.find_user(engine, "ana").team == "north"


def test_users_reset_password_prints_a_temporary_password_to_change_at_the_next_login(
    cli: Cli,
) -> None:
    with_user(cli)
    result = cli("users", "reset-password", "ana")
    assert result.exit_code == 0, result.output
    temporary = result.output.strip().splitlines()[-1]
    engine = open_store(cli.database)
    assert accounts.log_in(engine, "ana", PASSWORD, "10.0.0.1").account is None
    logged = accounts.log_in(engine, "ana", temporary, "10.0.0.1").account
    assert logged is not None and logged.must_change_password
    assert accounts.pending_step(logged) == "/account/password"
    record = audit_page(engine, entity="users").lines[0]
    assert (record.action, record.actor) == ("pw_reset", "tester")
    assert temporary not in str(audit_page(engine, size=1000).lines)
    assert cli("users", "reset-password", "nobody").exit_code != 0
