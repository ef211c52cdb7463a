"""Pure domain layer: statuses and labels, the case state machine, working-day deadlines.

Nothing here imports Flask, SQLAlchemy or the database, so it can be tested and reused alone.
"""
