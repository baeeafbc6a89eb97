"""The database's schema history, as Alembic revisions (versions/), run by Store.migrate.

There is no alembic.ini: Store.alembic_config builds the configuration around the Store's own
connection, so the app, ``posterapp init-db`` and the tests migrate the database they use.
To write the next revision against a database at head (review every line it writes)::

    from alembic import command
    from posterapp.store import Store
    store = Store("sqlite:///instance/posterapp.db")
    with store.engine.begin() as db:
        command.revision(store.alembic_config(db), "what changed", autogenerate=True)
"""
