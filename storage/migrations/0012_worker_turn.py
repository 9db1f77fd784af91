"""The worker's last turn of the loop, in the database: /healthz and /metrics in any process can tell it runs."""
from peewee import Check, DateTimeField, IntegerField, Model


def up(migrator, db):
    class WorkerTurn(Model):
        id = IntegerField(primary_key=True, constraints=[Check("id = 1")])  # one row: whichever worker turned last
        at = DateTimeField()
        took_ms = IntegerField()
        every_ms = IntegerField()

        class Meta:
            database = db
            table_name = "worker_turn"

    db.create_tables([WorkerTurn])
