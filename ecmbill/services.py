"""What the shells (CLI, web) call: each function takes plain values and an engine, does one
thing a biller asks for, and returns domain values. No printing, no HTTP."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine

from ecmbill.contract import Contract, default_contract, load_contract, parse_contract
from ecmbill.domain.honesty import HonestyReport, honesty_report
from ecmbill.domain.lines import PeriodRating
from ecmbill.domain.period import Period
from ecmbill.rating import files
from ecmbill.rating.service import rate_store
from ecmbill.store import audit, models
from ecmbill.store.db import make_engine, migrate, unit_of_work

CONTRACT_SETTING = "contract_toml"


def open_store(url: str | None = None) -> Engine:
    """The database, migrated to the newest schema."""
    engine = make_engine(url)
    migrate(engine)
    return engine


def current_contract(engine: Engine, override: Path | None = None) -> Contract:
    """``--contract FILE`` if given, else the contract stored in the database, else the
    default (the plan's billing guide)."""
    if override is not None:
        return load_contract(override)
    with unit_of_work(engine) as session:
        stored = session.get(models.Setting, CONTRACT_SETTING)
        text = stored.value if stored else None
    return parse_contract(text, "stored contract") if text else default_contract()


def store_contract(engine: Engine, path: Path, actor: str) -> Contract:
    """Validate a contract file and keep it in the database for every later command."""
    contract = load_contract(path)
    text = path.read_text(encoding="utf-8")
    with unit_of_work(engine) as session:
        stored = session.get(models.Setting, CONTRACT_SETTING)
        before = {"name": current_name(stored.value)} if stored else None
        if stored:
            stored.value = text
        else:
            session.add(models.Setting(key=CONTRACT_SETTING, value=text))
        audit.record_change(
            session,
            actor=actor,
            at=audit.now(),
            action="update" if stored else "create",
            entity="settings",
            key=CONTRACT_SETTING,
            before=before,
            after={"name": contract.name},
        )
    return contract


def current_name(text: str) -> str:
    try:
        return parse_contract(text).name
    except ValueError:
        return "(unreadable)"


def rate(engine: Engine, period: Period, contract: Contract) -> PeriodRating:
    return rate_store(engine, period, contract)


def rate_files(
    folder: Path,
    period: Period,
    contract: Contract,
    *,
    engine: str = "duckdb",
    spark_master: str | None = None,
    status: Callable[[str], None] | None = None,
) -> PeriodRating:
    """Rate a period from a folder of Parquet or CSV files (see ``ecmbill.rating.files``)."""
    return files.rate_folder(
        folder, period, contract, engine=engine, spark_master=spark_master, status=status
    )


def rate_files_to(
    folder: Path,
    period: Period,
    contract: Contract,
    out: Path,
    *,
    engine: str = "duckdb",
    spark_master: str | None = None,
    status: Callable[[str], None] | None = None,
) -> files.Written:
    """Rate a period from files and write the lines and the not-billed entries to files."""
    return files.rate_folder_to_file(
        folder, period, contract, out, engine=engine, spark_master=spark_master, status=status
    )


def honesty(engine: Engine, period: Period, contract: Contract) -> HonestyReport:
    rating = rate(engine, period, contract)
    return honesty_report(rating.period, rating.lines, rating.not_billed)
