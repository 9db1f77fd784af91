"""The loop's queries stay flat as the data grows: a partial index for the next due moment, a record of warnings."""
from peewee import DateTimeField, SQL


def up(migrator, db):
    migrator.migrate(
        # next_moment: the earliest due_at among milestones not yet announced, one index row away
        migrator.add_index("milestone", ("due_at",), False, where=SQL("announced_at IS NULL")),
        # the day-before warning: which scheduled time of the event the contractor was warned of
        migrator.add_column("event", "warned_for", DateTimeField(null=True)),
    )
