"""Customers read their texts and page in their language, contractors their chat in theirs: English until told."""
from peewee import CharField


def up(migrator, db):
    migrator.migrate(
        migrator.add_column("customer", "language", CharField(max_length=8, default="en")),
        migrator.add_column("contractor", "language", CharField(max_length=8, default="en")),
    )
