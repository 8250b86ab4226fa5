"""Schema migrations (Alembic): every change to the tables after the first release is a
revision here, applied by `Database.migrate()` when a process starts.
"""
