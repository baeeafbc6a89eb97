"""Run revisions on the connection Store.alembic_config was given (online only)."""

from alembic import context

from posterapp.store import metadata

connection = context.config.attributes.get("connection")
if connection is None or context.is_offline_mode():
    raise RuntimeError("run migrations through Store.migrate (posterapp init-db)")

# The caller holds the transaction (and the lock that goes with it): Alembic joins it.
context.configure(connection=connection, target_metadata=metadata, compare_type=True)
with context.begin_transaction():
    context.run_migrations()
