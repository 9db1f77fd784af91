"""`paystage compliance`: what a US A2P 10DLC campaign registration asks for, from the texts Paystage really sends.

Each business that texts US customers through its own Twilio number registers
a brand and a campaign (Twilio Console, Messaging, Regulatory compliance).
The campaign form asks for a use-case description, sample messages, how the
customer opts in, and the opt-out and help texts; the samples here are the
real templates (core/wording/customer_texts.py, customer_replies.py) rendered
for a sample job, so the registration says what the customers will get.
"""

from dataclasses import replace
from datetime import datetime, timedelta, timezone

from core.inbound import HELP, OPT_IN, OPT_OUT
from core.plan import Trigger, TriggerKind
from core.status import EventView, JobView, MilestoneView, Status
from core.wording import customer_replies, customer_texts

LINK = "https://pay.example.com/p/J-7K2Q.1767225600.kx3f"  # the shape of a payment link: the host is yours


def sample_job(business: str, phone: str, language: str = "en") -> JobView:
    """The countertop job (docs/design.md): $4,000.00 in three payments, the first due now."""
    now = datetime(2026, 12, 1, 15, tzinfo=timezone.utc)
    measurement = EventView(name="Measurement", scheduled_at=now + timedelta(days=2), state="scheduled")
    plan = [("Measurement deposit", Trigger(TriggerKind.BEFORE, event="Measurement"), 100_000, now),
            ("After Removal", Trigger(TriggerKind.AFTER, event="Removal"), 100_000, None),
            ("After Installation", Trigger(TriggerKind.AFTER, event="Installation"), 200_000, None)]
    milestones = tuple(MilestoneView(position=n, label=label, trigger=trigger, percent=None, fixed=None, amount=amount,
                                     paid=0, due_at=due_at, status=Status.DUE if due_at else Status.UPCOMING)
                       for n, (label, trigger, amount, due_at) in enumerate(plan))
    return JobView(ref="J-7K2Q", title="Kitchen countertops", state="active", currency="USD", locale="en_US",
                   timezone="America/New_York", customer_name="Dana Whitfield", customer_phone="+14155550134",
                   business_name=business, business_phone=phone, total=400_000, paid=0, now=now, plan_sent=True,
                   milestones=milestones, events=(measurement,), language=language)


def registration(business: str, phone: str) -> str:
    """The campaign registration's answers, for `business` texting from Paystage."""
    job = sample_job(business, phone)
    paid = replace(job, paid=100_000, milestones=(replace(job.milestones[0], paid=100_000, status=Status.PAID),
                                                  *job.milestones[1:]))
    samples = [
        customer_texts.consent(job, rates=True),
        customer_texts.plan_summary(job, LINK),
        customer_texts.payment_due(job, job.milestones[0], LINK),
        customer_texts.reminder(job, job.milestones[0], LINK, 1),
        customer_texts.receipt(paid, 100_000, "card", LINK),
    ]
    spanish = customer_texts.consent(replace(job, language="es"), rates=True)
    sections = [
        ("Use case", "Account notifications (customer care: a customer's own job and its payments)."),
        ("Campaign description",
         f"{business} texts its customers about the job they hired it for: the payment plan agreed for the job, "
         "each payment when it falls due (a work stage is done or its date arrives) with the amount and a payment "
         "link, gentle reminders of overdue payments, receipts, and changes to the price or schedule. Customers "
         "text back keywords (BAL, NEXT, PLAN, PAY) to see where they stand, or reply in their own words, which "
         "are passed on to the business. No marketing, no third-party content."),
        ("Sample messages", "\n\n".join(samples)),
        ("How customers opt in",
         f"The customer gives {business} their mobile number for the job (in person, on the signed estimate, or "
         "by phone) and agrees to get texts about it; the business enters it when it creates the job. The first "
         "text the customer gets is this confirmation, before any other:\n" + samples[0]
         + "\nFor a customer who reads Spanish:\n" + spanish),
        ("Opt-out keywords", ", ".join(sorted(OPT_OUT)) + " (Twilio's Advanced Opt-Out confirms them; Paystage "
                                                         "stops every text to the number until START)."),
        ("Opt-in keywords", ", ".join(sorted(OPT_IN))),
        ("Help keywords", ", ".join(sorted(HELP))),
        ("Help message", customer_replies.help(job)),
        ("Message frequency", "Varies with the job: usually 3 to 10 texts over its life."),
        ("Embedded links / phone numbers", "Yes: a link to the customer's own payment page; the business's phone."),
        ("Age-gated content, direct lending, affiliate marketing", "No."),
    ]
    return "\n\n".join(f"== {title} ==\n{body}" for title, body in sections) + "\n"
