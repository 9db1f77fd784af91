"""A plan may hold back retainage: a milestone of its own, flagged, paid when its release event is done."""
from peewee import BooleanField


def up(migrator, db):
    migrator.migrate(migrator.add_column("milestone", "retainage", BooleanField(default=False)))
