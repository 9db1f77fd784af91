"""Nothing lost while the web app was down: the worker applies what Stripe could not deliver, once.

The real app under waitress, the real Worker (APScheduler) and the local Stripe over HTTP. A payment made while
the app is down is undelivered (`delivery_success=false`); the worker records it, and Stripe's later retry to the
restarted app is a duplicate that changes nothing.
"""

import logging
import threading
from datetime import timedelta

import pytest

from core.checkout import PaymentsUnavailable, start_checkout
from core.clock import system_clock
from core.context import Actor, Context
from core.delivery import LoggingSender
from core.dispatcher import DeliveryPolicy, Dispatcher
from core.events import add_event
from core.jobs import Item, create_job, job_status, register_contractor
from core.links import PaymentLinks
from core.plans import send_plan, set_plan
from core.quiet_hours import QuietHours
from paystage.app import build_worker, web_server
from paystage.settings import Settings
from paystage.worker import Worker
from sandbox import LocalStripeAPI
from sms.reconciliation import Reconciliation
from sms.stripe_gateway import StripeGateway
from storage.models import Contractor, OutboxMessage, Payment, ProviderEvent
from tests.run_harness import free_port
from tests.shop import stop_serving
from tests.test_pay_from_page import Shop, request, wait_for

ALWAYS = DeliveryPolicy(quiet_hours=QuietHours.parse("off"), sms_interval=None, telegram_chat_interval=None,
                        telegram_interval=None)


@pytest.fixture
def live(database):
    """Use cases on the real clock, as the worker's scheduler runs on it."""
    return Context(clock=system_clock, links=PaymentLinks("https://pay.example", "test-secret"))


@pytest.fixture
def stripe_api():
    with LocalStripeAPI() as api:
        yield api


@pytest.fixture
def gateway(stripe_api):
    return StripeGateway(stripe_api.secret_key, api_base_url=stripe_api.base_url)


@pytest.fixture
def running(live):
    """Start a Worker that reconciles with `reconcile`; stopped at the end of the test."""
    workers = []

    def start(reconcile, every=timedelta(hours=1)) -> Worker:
        senders = {"sms": LoggingSender("sms"), "telegram": LoggingSender("telegram")}
        worker = Worker(live, Dispatcher(system_clock, senders, ALWAYS), scan_every=timedelta(hours=1), poll=0.1,
                        reconcile=reconcile, reconcile_every=every)
        worker.start()
        workers.append(worker)
        return worker

    yield start
    for worker in workers:
        worker.stop()


def deposit_due(ctx, contractor: Actor) -> str:
    """A $4,000 job whose $1,000 deposit is due now; its ref."""
    job = create_job(ctx, contractor, customer_name="Dana Whitfield", phone="(415) 555-0134",
                     title="Kitchen countertops", items=[Item("Kitchen countertops", 400_000)])
    add_event(ctx, contractor, job.ref, "Installation", ctx.clock() + timedelta(days=10))
    set_plan(ctx, contractor, job.ref, "25% deposit, rest after installation")
    send_plan(ctx, contractor, job.ref)
    return job.ref


def pay_at_checkout(checkout_url: str, method: str = "card") -> None:
    status, _, _ = request(checkout_url + "/pay", {"method": method})
    assert status == 303


def online_payments() -> list[Payment]:
    return list(Payment.select().where(Payment.reference.is_null(False)))


def receipts() -> int:
    return OutboxMessage.select().where(OutboxMessage.kind == "receipt").count()


def serve(app, port: int):
    """The same app on the same port again: the web app restarted."""
    server = web_server(app, "127.0.0.1", port)
    thread = threading.Thread(target=server.run, name="shop-again", daemon=True)
    thread.start()
    return server, thread


def test_a_payment_made_while_the_web_app_was_down_is_recorded_once(live, contractor, stripe_api, gateway, running):
    ref = deposit_due(live, contractor)
    shop = Shop(live, stripe_api)
    running(Reconciliation(live, gateway), every=timedelta(seconds=1))
    _, checkout_url = shop.tap_pay(ref, "due", "card")
    port = shop.server.effective_port
    shop.close()  # the web app goes down while the customer is at Stripe's page

    pay_at_checkout(checkout_url)
    [failed] = stripe_api.wait_for_deliveries(1)
    assert failed["status"] is None  # refused: Stripe keeps it as undelivered
    wait_for(lambda: online_payments(), timeout=10)  # the worker's next reconciliation, a second later
    assert job_status(live, contractor, ref).milestones[0].status.value == "paid"
    assert [e["id"] for e in gateway.missed_events(system_clock() - timedelta(hours=1))] == [failed["event_id"]]

    server, thread = serve(shop.app, port)
    try:
        [retried] = stripe_api.retry_undelivered()
        assert retried["status"] == 200  # the restarted app takes it: a duplicate, answered 200
    finally:
        stop_serving(server, thread)
    assert gateway.missed_events(system_clock() - timedelta(hours=1)) == []
    [payment] = online_payments()
    assert payment.amount == 100_000
    assert ProviderEvent.select().count() == 1 and receipts() == 1
    assert job_status(live, contractor, ref).paid == 100_000


def test_a_stripe_outage_is_one_line_in_the_log_and_the_next_run_catches_up(live, contractor, stripe_api, gateway,
                                                                            running, caplog):
    ref = deposit_due(live, contractor)
    stripe_api.add_endpoint(f"http://127.0.0.1:{free_port()}/stripe/webhook")  # nobody listens there
    checkout_url = start_checkout(live, gateway, ref, "due", "card", page_url="https://pay.example/p/x")
    pay_at_checkout(checkout_url)
    stripe_api.wait_for_deliveries(1)
    stripe_api.fail_next(3, status=500, path="/v1/events")  # the first try and stripe-python's two retries

    with caplog.at_level(logging.INFO, logger="paystage.worker"):
        worker = running(Reconciliation(live, gateway))  # once at start, then an hour later
        wait_for(lambda: any(r.name == "paystage.worker" and r.levelno == logging.WARNING for r in caplog.records))
        assert online_payments() == []
        [line] = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert "\n" not in line.getMessage() and line.exc_info is None
        assert "Stripe did not list" in line.getMessage() and "trying again in 1:00:00" in line.getMessage()

        worker.reconcile()  # the next run
    [payment] = online_payments()
    assert payment.amount == 100_000 and receipts() == 1
    assert all(t.is_alive() for t in worker._threads) and worker.scheduler.get_job("reconcile") is not None


def test_each_connected_accounts_missed_payments_are_asked_for_as_that_account(live, contractor, stripe_api, gateway):
    ref = deposit_due(live, contractor)
    account = gateway.create_account(int(contractor.key), "Granite & Co")
    stripe_api.complete_onboarding(account)
    Contractor.update(payment_account=account, payment_account_ready=True).where(
        Contractor.id == int(contractor.key)).execute()
    register_contractor(live, business_name="Gone Tiling", telegram_id=556)
    Contractor.update(payment_account="acct_0Revoked").where(Contractor.telegram_id == 556).execute()
    stripe_api.add_endpoint(f"http://127.0.0.1:{free_port()}/stripe/webhook", connect=True)  # down
    checkout_url = start_checkout(live, gateway, ref, "due", "card", page_url="https://pay.example/p/x",
                                  account=account)
    pay_at_checkout(checkout_url)
    stripe_api.wait_for_deliveries(1)  # refused

    with pytest.raises(PaymentsUnavailable, match=r"HTTP 403.*1 of 2 connected accounts"):
        Reconciliation(live, gateway, connect=True)()  # a revoked account is told of, and holds up no other
    assert [p.amount for p in online_payments()] == [100_000]
    listed = [r["account"] for r in stripe_api.requests if r["path"] == "/v1/events"]
    assert listed == [None, "acct_0Revoked", account]  # the revoked one first: "0" sorts before any "acct_1..."


def test_paystage_worker_reconciles_with_stripe_settings_only(live, tmp_path):
    env = {"PAYSTAGE_DATA_DIR": str(tmp_path)}
    assert build_worker(Settings.from_env(env), live)._reconcile is None
    stripe = {"STRIPE_SECRET_KEY": "sk_test_x", "STRIPE_WEBHOOK_SECRET": "whsec_x", "STRIPE_CONNECT": "on"}
    reconcile = build_worker(Settings.from_env({**env, **stripe}), live)._reconcile
    assert isinstance(reconcile, Reconciliation) and reconcile.connect


def test_a_bank_transfer_started_and_settled_while_the_app_was_down_is_applied_in_order(live, contractor, stripe_api,
                                                                                        gateway, outbox):
    ref = deposit_due(live, contractor)
    stripe_api.add_endpoint(f"http://127.0.0.1:{free_port()}/stripe/webhook")  # down
    checkout_url = start_checkout(live, gateway, ref, "due", "bank", page_url="https://pay.example/p/x")
    pay_at_checkout(checkout_url, "us_bank_account")
    stripe_api.settle_bank(checkout_url.rsplit("/", 1)[1], succeed=True)
    stripe_api.wait_for_deliveries(2)

    done = Reconciliation(live, gateway)()
    assert done == {"processing": 1, "paid": 1}  # newest first, the start would come after the money: stale
    told = [kind for _, kind, _ in outbox() if kind in ("bank_transfer_started", "payment_received")]
    assert told == ["bank_transfer_started", "payment_received"]
    assert job_status(live, contractor, ref).milestones[0].status.value == "paid"
