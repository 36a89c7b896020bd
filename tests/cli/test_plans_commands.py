"""``ecmbill plans``, and the exchange files of one plan, as a biller types them."""

from __future__ import annotations

from pathlib import Path

from ecmbill.contract.model import default_toml
from tests.cli.conftest import Cli
from tests.exchange.builders import mif_header, mif_row, write_csv


def test_plans_add_list_show_and_set(cli: Cli, tmp_path: Path) -> None:
    contract_b = tmp_path / "plan-b.toml"
    contract_b.write_text(default_toml().replace("(plan billing guide)", "(Plan B)"))
    result = cli(
        "plans", "add", "Plan-B", "--name", "Plan B Health", "--contract", str(contract_b),
        "--payer-id", "PLANB01", "--payer-name", "PLAN B HEALTH",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "Plan plan-b added: Plan B Health" in result.output

    listed = cli("plans", "list")
    assert listed.exit_code == 0
    assert "default" in listed.output and "plan-b" in listed.output
    assert "PLAN B HEALTH PLANB01" in listed.output and "its own" in listed.output

    shown = cli("plans", "show", "plan-b")
    assert shown.exit_code == 0
    assert "name: Plan B Health" in shown.output
    assert "payer_id: PLANB01" in shown.output and "receiver_id: (not set)" in shown.output

    changed = cli("plans", "set", "plan-b", "--receiver-id", "RCVB", "--name", "Plan B")
    assert changed.exit_code == 0, changed.output
    shown = cli("plans", "show", "plan-b").output
    assert "name: Plan B" in shown and "receiver_id: RCVB" in shown and "payer_id: PLANB01" in shown


def test_plans_refuse_a_bad_key_a_repeated_key_a_bad_contract_and_an_unknown_plan(
    cli: Cli, tmp_path: Path
) -> None:
    bad_key = cli("plans", "add", "plan b!", "--name", "B")
    assert bad_key.exit_code == 2 and "is not valid" in bad_key.output
    repeated = cli("plans", "add", "default", "--name", "Again")
    assert repeated.exit_code == 2 and "already exists" in repeated.output
    broken = tmp_path / "broken.toml"
    broken.write_text('name = "broken"\n')
    bad_contract = cli("plans", "add", "b", "--name", "B", "--contract", str(broken))
    assert bad_contract.exit_code == 2 and "b" not in cli("plans", "list").output.split()
    unknown = cli("plans", "show", "zz")
    assert unknown.exit_code == 2 and "no plan 'zz'" in unknown.output
    bad_payer = cli("plans", "add", "b", "--name", "B", "--payer-id", "!")
    assert bad_payer.exit_code == 2 and "--payer-id" in bad_payer.output
    assert cli("plans", "set", "default").exit_code == 2  # nothing to change
    first_payer = cli("plans", "set", "default", "--payer-id", "OTHER01")
    assert first_payer.exit_code == 2 and "claim settings" in first_payer.output


def test_setting_the_first_plans_contract_stores_the_office_contract(
    cli: Cli, tmp_path: Path
) -> None:
    office = tmp_path / "office.toml"
    office.write_text(
        default_toml().replace(
            'name = "ECM fee-for-service (plan billing guide)"', 'name = "Office terms"'
        )
    )
    assert cli("plans", "set", "default", "--contract", str(office)).exit_code == 0
    assert "Office terms" in cli("contract", "show").output


def test_the_otf_of_one_plan_of_several_carries_its_key_in_the_file_name(
    cli: Cli, tmp_path: Path
) -> None:
    mif = write_csv(
        tmp_path / "mif.csv", mif_header(), [mif_row("91234567A", "Garcia", "A", "1970-01-01")]
    )
    assert cli("exchange", "import-mif", str(mif)).exit_code == 0
    assert cli("plans", "add", "b", "--name", "Plan B").exit_code == 0
    assert cli("exchange", "import-mif", str(mif), "--plan", "zz").exit_code == 2
    out = tmp_path / "otf.csv"
    result = cli("exchange", "otf", "--period", "2026-10", "--out", str(out), "--plan", "b")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "otf-b.csv").exists() and not out.exists()
    assert "(plan b)" in result.output
