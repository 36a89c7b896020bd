"""Alembic environment. ecmbill runs migrations itself (``ecmbill.store.db.migrate``) and hands
the connection in; ``alembic`` on the command line uses ECMBILL_DATABASE_URL."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from ecmbill.store.db import database_url
from ecmbill.store.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        context.configure(
            connection=connection, target_metadata=target_metadata, render_as_batch=True
        )
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = create_engine(database_url())
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
