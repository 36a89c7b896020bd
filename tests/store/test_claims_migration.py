from alembic import command
from sqlalchemy import Engine, inspect, text

from ecmbill.store.db import alembic_config, migrate


def test_migration_0002_adds_the_claim_tables_with_counters_at_zero(engine: Engine) -> None:
    tables = set(inspect(engine).get_table_names())
    assert {"period_closes", "claims", "claim_lines", "claim_exports", "control_counters"} <= tables
    with engine.connect() as conn:
        counters = dict(conn.execute(text("SELECT name, value FROM control_counters")).all())
    assert counters == {"interchange": 0, "group": 0, "transaction": 0, "claim": 0}


def test_migration_0002_downgrades_to_the_foundation_and_back(engine: Engine) -> None:
    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0001")
    assert "claims" not in inspect(engine).get_table_names()
    migrate(engine)
    assert "claims" in inspect(engine).get_table_names()
