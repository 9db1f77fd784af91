"""A job's paper trail (core/export.py): read back from its CSV and JSON and held against the database's own rows.

Every audit record, payment, refund and queued message of the job appears once, in time order, with its actor;
only the job's contractor (or the operator, `paystage export`) reads it.
"""

import csv
import io
import json
import os
import subprocess
import sys

import pytest

from core.change_orders import propose_price_change
from core.context import Actor
from core.errors import NotFound
from core.events import mark_event_done
from core.export import COLUMNS, Row, job_history, to_csv, to_json
from core.inbound import answer_text
from core.payments import record_payment, unapply_refund
from core.pricing import PriceChange
from storage.models import AuditRecord, Job, OutboxMessage, Payment, db
from tests.databases import POSTGRES_URL

DANA = "+14155550134"


@pytest.fixture
def story(ctx, clock, contractor, planned):
    """The countertop job through its story: a card payment, a price change the customer approves by text, part
    of the payment refunded, an event done; and the texts so far sent and delivered. Returns its ref."""
    clock.advance(hours=2)
    record_payment(ctx, Actor.system("stripe"), planned, 100_000, "card", reference="pi_deposit")
    clock.advance(days=1)
    propose_price_change(ctx, contractor, planned, PriceChange.total(485_000))
    clock.advance(hours=1)
    answer_text(ctx, DANA, "YES", "SM-yes")
    clock.advance(hours=1)
    with db.atomic():
        job = Job.get(Job.ref == planned)
        unapply_refund(ctx, Actor.system("stripe"), job, Payment.get(Payment.reference == "pi_deposit"),
                       refunded_in_all=20_000)
    clock.advance(days=8)
    mark_event_done(ctx, contractor, planned, "Removal")
    for n, message in enumerate(OutboxMessage.select().order_by(OutboxMessage.id)[:3]):
        OutboxMessage.update(state="sent", sent_at=message.created_at, provider_id=f"SM{n:032d}",
                             delivery_status="delivered").where(OutboxMessage.id == message.id).execute()
    return planned


def read_csv(data: bytes) -> list[dict]:
    assert data.startswith(b"\xef\xbb\xbf")  # the byte order mark: Excel reads UTF-8 by it
    reader = csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline=""))
    assert tuple(reader.fieldnames) == COLUMNS
    return list(reader)


def of(rows: list[dict], source: str) -> list[dict]:
    return [row for row in rows if row["source"] == source]


def job_of(ref: str) -> Job:
    return Job.get(Job.ref == ref)


def test_every_audit_record_and_message_appears_once_in_time_order_with_its_actor(ctx, contractor, story):
    rows = read_csv(to_csv(job_history(ctx, contractor, story)))
    job = job_of(story)
    audit = list(AuditRecord.select().where(AuditRecord.job == job).order_by(AuditRecord.at, AuditRecord.id))
    assert [(int(r["id"]), r["kind"], r["actor"]) for r in of(rows, "audit")] == [
        (a.id, a.kind, a.actor) for a in audit]
    assert {"job_created", "event_added", "plan_set", "plan_sent", "payment_recorded", "price_changed",
            "change_order_sent", "change_order_approved", "refund_recorded", "event_done"} <= {a.kind for a in audit}
    for row, record in zip(of(rows, "audit"), audit):
        assert json.loads(row["detail"]) == {"old": json.loads(record.old), "new": json.loads(record.new)}
        assert row["time"] == record.at.strftime("%Y-%m-%dT%H:%M:%SZ")
    messages = list(OutboxMessage.select().where(OutboxMessage.job == job).order_by(OutboxMessage.id))
    assert len(messages) >= 8 and {m.channel for m in messages} == {"sms", "telegram"}
    assert sorted(int(r["id"]) for r in of(rows, "message")) == [m.id for m in messages]  # each once
    assert [r["time"] for r in rows] == sorted(r["time"] for r in rows)  # oldest first
    assert len(rows) == len(audit) + len(messages) + len(of(rows, "payment")) + len(of(rows, "refund")) + len(
        of(rows, "milestone")) + len(of(rows, "change_order"))
    assert all(r["actor"] and r["what"] and r["kind"] for r in rows)
    [approved] = of(rows, "change_order")  # the customer's YES, with its evidence
    assert (approved["actor"], approved["status"], approved["amount"]) == (f"customer:{DANA}", "approved",
                                                                           "$4,850.00")
    evidence = json.loads(approved["detail"])
    assert evidence["message_id"] == "SM-yes" and evidence["shown"] == OutboxMessage.get(
        OutboxMessage.kind == "change_order").body


def test_a_message_carries_its_body_recipient_and_what_became_of_it(ctx, contractor, story):
    rows = read_csv(to_csv(job_history(ctx, contractor, story)))
    first = OutboxMessage.select().order_by(OutboxMessage.id).first()
    row = next(r for r in of(rows, "message") if int(r["id"]) == first.id)
    detail = json.loads(row["detail"])
    assert row["kind"] == first.kind and row["actor"] == "system:outbox" and row["status"] == "delivered"
    assert detail["body"] == first.body and detail["to"] == DANA and detail["channel"] == "sms"
    assert detail["provider_id"] == "SM" + "0" * 32 and detail["state"] == "sent" and detail["sent_at"]
    assert row["what"].startswith(f"Text message to Dana Whitfield ({DANA}): ")
    pending = next(r for r in of(rows, "message") if r["status"] == "pending")
    assert json.loads(pending["detail"])["sent_at"] is None
    notice = next(r for r in of(rows, "message") if json.loads(r["detail"])["channel"] == "telegram")
    assert notice["what"].startswith("Telegram message to Granite & Co: ")


def test_payments_and_refunds_carry_their_method_reference_and_amount(ctx, contractor, story):
    rows = read_csv(to_csv(job_history(ctx, contractor, story)))
    [payment], [refund] = of(rows, "payment"), of(rows, "refund")
    assert (payment["amount_minor"], payment["amount"], payment["currency"]) == ("100000", "$1,000.00", "USD")
    assert payment["actor"] == "system:stripe" and payment["what"] == "Payment received: $1,000.00 (card)"
    assert json.loads(payment["detail"])["reference"] == "pi_deposit"
    assert json.loads(payment["detail"])["method"] == "card"
    assert (refund["amount_minor"], refund["amount"]) == ("-20000", "-$200.00")
    assert json.loads(refund["detail"])["refund_of"] == int(payment["id"])
    changed = next(r for r in of(rows, "audit") if r["kind"] == "price_changed")
    assert changed["what"].startswith("Price changed from $4,000.00 to $4,850.00")
    asked = of(rows, "milestone")
    assert [r["kind"] for r in asked] == ["payment_asked"] * len(asked) and len(asked) == 2  # deposit, removal
    assert rows.index(next(r for r in rows if r["kind"] == "event_done")) < rows.index(asked[-1])  # cause first


def test_the_json_says_what_the_csv_says(ctx, contractor, story):
    history = job_history(ctx, contractor, story)
    from_csv, from_json = read_csv(to_csv(history)), json.loads(to_json(history))
    assert len(from_csv) == len(from_json)
    for a, b in zip(from_csv, from_json):
        assert list(b) == list(COLUMNS)
        assert a["time"] == b["time"] and a["kind"] == b["kind"] and a["actor"] == b["actor"]
        assert int(a["id"]) == b["id"] and a["what"] == b["what"] and json.loads(a["detail"]) == b["detail"]
        assert (int(a["amount_minor"]) if a["amount_minor"] else None) == b["amount_minor"]


def test_another_contractor_and_the_customer_get_nothing(ctx, story):
    from core.jobs import register_contractor

    other = Actor.contractor(register_contractor(ctx, business_name="Other Tile", telegram_id=777).id)
    for stranger in (other, Actor.customer(DANA)):
        with pytest.raises(NotFound):
            job_history(ctx, stranger, story)
    assert job_history(ctx, Actor.system("cli"), story)  # the operator, by the job's reference


def test_a_cell_a_spreadsheet_would_run_as_a_formula_is_written_as_text(utc):
    row = Row(at=utc(2026, 12, 1, 9), source="audit", kind="customer_answered", actor="customer:+1",
              what="=HYPERLINK(\"http://evil.example\")", amount=-500, amount_text="-$5.00", currency="USD")
    [read] = read_csv(to_csv([row]))
    assert read["what"] == "'=HYPERLINK(\"http://evil.example\")"
    assert (read["amount_minor"], read["amount"], read["time"]) == ("-500", "-$5.00", "2026-12-01T09:00:00Z")


def test_a_record_of_a_kind_not_known_yet_is_kept_in_its_own_name(ctx, contractor, story):
    from core.journal import audit

    with db.atomic():
        audit(job_of(story), contractor, "change_order_proposed", ctx.clock(), new={"total": 1})
    [row] = [row for row in job_history(ctx, contractor, story) if row.kind == "change_order_proposed"]
    assert (row.what, row.detail["new"], row.amount) == ("change order proposed", {"total": 1}, None)


# --- paystage export, run as the operator runs it -------------------------------------------------------------


def paystage(*args, tmp_path, database):
    """`paystage ARGS` in a process of its own on the test's database; (returncode, stdout bytes, stderr)."""
    url = POSTGRES_URL if POSTGRES_URL and not str(database.database).endswith(".sqlite3") \
        else f"sqlite:///{database.database}"
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("PAYSTAGE_", "DATABASE_URL"))}
    environment.update(PAYSTAGE_DATA_DIR=str(tmp_path / "data"), DATABASE_URL=url)
    run = subprocess.run([sys.executable, "-m", "paystage.cli", *args], capture_output=True, env=environment,
                         cwd=tmp_path, timeout=120)
    return run.returncode, run.stdout, run.stderr.decode()


def test_paystage_export_writes_the_csv_to_standard_output(tmp_path, database, ctx, contractor, story):
    code, out, err = paystage("export", story, "--format", "csv", tmp_path=tmp_path, database=database)
    assert code == 0, err
    rows = read_csv(out)
    expected = job_history(ctx, contractor, story)
    assert [(r["source"], int(r["id"]), r["kind"], r["actor"], r["time"]) for r in rows] == [
        (e.source, e.sequence, e.kind, e.actor, e.at.strftime("%Y-%m-%dT%H:%M:%SZ")) for e in expected]


def test_paystage_export_writes_json_to_a_file(tmp_path, database, ctx, contractor, story):
    target = tmp_path / "trail.json"
    code, out, err = paystage("export", story.lower(), "--format", "json", "--output", str(target),
                              tmp_path=tmp_path, database=database)
    assert code == 0, err
    assert out == b""
    rows = json.loads(target.read_text(encoding="utf-8"))
    expected = job_history(ctx, contractor, story)
    assert [(r["source"], r["id"]) for r in rows] == [(e.source, e.sequence) for e in expected]


def test_paystage_export_of_an_unknown_job_says_so_in_one_line(tmp_path, database, story):
    code, out, err = paystage("export", "J-NOPE", tmp_path=tmp_path, database=database)
    assert code == 1 and out == b""
    assert err.count("\n") == 1 and "J-NOPE" in err and "Traceback" not in err
