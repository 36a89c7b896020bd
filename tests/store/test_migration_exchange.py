"""The exchange tables come with revision 0004 and go away cleanly with it."""

from alembic import command
from sqlalchemy import Engine, inspect

from ecmbill.store.db import alembic_config, migrate

EXCHANGE_TABLES = {"member_details", "lead_care_managers", "staff_contacts", "rerate_marks"}


def test_revision_0004_adds_the_exchange_tables_and_can_be_undone(engine: Engine) -> None:
    assert set(inspect(engine).get_table_names()) >= EXCHANGE_TABLES
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0004-1")
    assert not EXCHANGE_TABLES & set(inspect(engine).get_table_names())
    migrate(engine)
    assert set(inspect(engine).get_table_names()) >= EXCHANGE_TABLES
