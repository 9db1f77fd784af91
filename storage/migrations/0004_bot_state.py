"""The Telegram bot's durable state: conversation states and user, chat and bot data, so a restart continues a chat."""
from peewee import AutoField, CharField, DateTimeField, Model, SqliteDatabase, TextField
from playhouse.sqlite_ext import AutoIncrementField


def up(migrator, db):
    class BotState(Model):
        id = AutoIncrementField() if isinstance(db, SqliteDatabase) else AutoField()
        kind = CharField(max_length=16)
        name = CharField(max_length=64)
        key = CharField(max_length=128)
        value = TextField()
        updated_at = DateTimeField()

        class Meta:
            database = db
            table_name = "bot_state"
            # one row per conversation and key, per user, per chat; the persistence upserts on it
            indexes = ((("kind", "name", "key"), True),)

    db.create_tables([BotState])
