"""The period rating: one Ibis expression over the stored tables (or plain files), so the same
rules run on SQLite, PostgreSQL, DuckDB and Spark."""
