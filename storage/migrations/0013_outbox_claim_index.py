"""A claim reads the outbox's due texts in order from an index, however many wait: (state, next_attempt_at, id).

The old index had no id, so the claim's ORDER BY next_attempt_at, id sorted every due text to pick ten, and a burst
queues thousands at one moment (docs/benchmarks.md, "Dispatch")."""


def up(migrator, db):
    migrator.migrate(
        migrator.drop_index("outbox_message", "outboxmessage_state_next_attempt_at"),
        migrator.add_index("outbox_message", ("state", "next_attempt_at", "id"), False),
    )

