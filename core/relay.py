"""The contractor's answer to a customer's text, relayed back by SMS."""

from core.context import Actor, Context
from core.errors import InvalidInput, NotFound
from core.journal import audit, text_customer
from core.status import JobView
from core.views import job_view
from core.wording.language import _
from storage.models import Job, OutboxMessage, db

SMS_LIMIT = 1600


def reply_to_customer(ctx: Context, actor: Actor, chat_id: str, relayed_message_id: str, reply_id: str,
                      text: str) -> JobView:
    """Text the customer whose message `relayed_message_id` (the bot's relay in `chat_id`) carried.

    `reply_id` names the contractor's reply (its Telegram message id): the
    same reply handled twice texts the customer once. A direct answer to the
    customer, so quiet hours do not hold it.
    """
    text = text.strip()
    if not text:
        raise InvalidInput(_("Your reply is empty: write the answer as a reply to the customer's message."))
    if len(text) > SMS_LIMIT:
        raise InvalidInput(_("That reply is {length} characters; a text message takes {limit} at most.").format(
            length=len(text), limit=SMS_LIMIT))
    now = ctx.clock()
    with db.atomic():
        relay = OutboxMessage.get_or_none(OutboxMessage.channel == "telegram", OutboxMessage.kind == "relay",
                                          OutboxMessage.recipient == chat_id,
                                          OutboxMessage.provider_id == relayed_message_id)
        job = Job.get_or_none(Job.id == relay.job_id) if relay else None
        if job is None or str(job.contractor_id) != actor.key:
            raise NotFound(_("That message is not a customer's text, so there is no one to send your reply to. "
                             "Reply to a message that starts with the customer's name."))
        if text_customer(job.customer, job, "relay_reply", text, key=f"reply:{chat_id}:{reply_id}", now=now,
                         reply=True):
            audit(job, actor, "customer_answered", now, new={"text": text})
        return job_view(job, now)
