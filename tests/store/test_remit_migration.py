from sqlalchemy import Engine, inspect


def test_migration_0003_adds_the_remittance_tables(engine: Engine) -> None:
    tables = set(inspect(engine).get_table_names())
    assert {"remittances", "remit_claims", "remit_lines", "remit_adjustments",
            "provider_adjustments"} <= tables  # fmt: skip
