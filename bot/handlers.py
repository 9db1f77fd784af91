"""The bot's callbacks: thin — read the update, run one command, send its reply.

The database work runs in worker threads (asyncio.to_thread), never on the
bot's event loop: on SQLite a write may wait for another writer (the
dispatcher, the web app), and that wait must not freeze every other chat.

Conversation state for a guided command lives in `user_data["guided"]`
(persisted, so a restart continues where the contractor was); pending
confirmations (a price change waiting for Apply) in `user_data["pending"]`.
"""

import asyncio
import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ApplicationHandlerStop, ContextTypes, ConversationHandler

from bot.commands import COMMANDS, Reply, Services, apply_change, job_card_reply, run_done, run_link, run_send
from core.context import Actor
from core.errors import NotFound, PaystageError
from core.jobs import contractor_by_telegram, contractor_jobs, job_status, register_contractor
from core.relay import reply_to_customer

log = logging.getLogger(__name__)

ASKING = "asking"
SORRY = "Sorry, something went wrong on my side. Nothing was changed; please try again."


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    return context.application.bot_data["services"]


async def send(update: Update, reply: Reply, context: ContextTypes.DEFAULT_TYPE) -> None:
    if reply.keep:
        context.user_data.setdefault("pending", {}).update(reply.keep)
    markup = InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=data) for label, data in row]
                                   for row in reply.buttons]) if reply.buttons else None
    await update.effective_chat.send_message(reply.text, reply_markup=markup, disable_web_page_preview=True)


async def actor_of(update: Update) -> Actor | None:
    contractor = await asyncio.to_thread(contractor_by_telegram, update.effective_user.id)
    return Actor.contractor(contractor.id) if contractor else None


async def run(update: Update, context: ContextTypes.DEFAULT_TYPE, action) -> bool:
    """Run `action()` (a command's reply) and send what it says; False when it was refused."""
    try:
        reply = await asyncio.to_thread(action)
    except PaystageError as error:
        await update.effective_chat.send_message(f"{error}\nNothing was changed.")
        return False
    await send(update, reply, context)
    return True


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """Register the Telegram user as a contractor (or greet them again)."""
    s, user = services(context), update.effective_user
    if s.allowed_ids is not None and user.id not in s.allowed_ids:
        await update.effective_chat.send_message("Sorry, this Paystage is private. Ask its owner to add your "
                                                 f"Telegram id ({user.id}).")
        return ConversationHandler.END
    contractor = await asyncio.to_thread(register_contractor, s.ctx, business_name=user.full_name or "My business",
                                         telegram_id=user.id)
    await update.effective_chat.send_message(
        f"Welcome, {contractor.business_name}! I keep your payment plans and text your customers when a "
        "payment falls due.\nStart a job: /newjob Dana Whitfield, (415) 555-0134, Kitchen countertops, $4,000\n"
        "Your business name, phone and payment instructions: /profile\nAll commands: /help")
    return ConversationHandler.END


async def entry(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int | str:
    """Any command: in one line when it has arguments, else step by step."""
    head, _, args = update.message.text.partition(" ")
    name = head.lstrip("/").split("@")[0].lower()
    command = COMMANDS[name]
    actor = await actor_of(update)
    if actor is None:
        await update.effective_chat.send_message("Send /start first, and I will set you up.")
        return ConversationHandler.END
    s = services(context)
    if args.strip() or not command.questions:
        await run(update, context, lambda: command.run(s, actor, command.parse(s, actor, args)))
        return ConversationHandler.END
    context.user_data["guided"] = {"command": name, "answers": {}}
    return await ask_next(update, context, actor)


async def ask_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int | str:
    """A button that starts a guided command for one job ("ask:paid:J-7K2Q")."""
    await update.callback_query.answer()
    _, name, ref = update.callback_query.data.split(":", 2)
    actor = await actor_of(update)
    if actor is None:
        return ConversationHandler.END
    context.user_data["guided"] = {"command": name, "answers": {"job": ref}}
    return await ask_next(update, context, actor)


async def ask_next(update: Update, context: ContextTypes.DEFAULT_TYPE, actor: Actor) -> int | str:
    """Ask the next unanswered question, or run the command once all are answered."""
    guided = context.user_data["guided"]
    command, answers = COMMANDS[guided["command"]], guided["answers"]
    s = services(context)
    for question in command.questions:
        if question.key in answers:
            continue
        if question.key == "job":
            jobs = await asyncio.to_thread(contractor_jobs, s.ctx, actor)
            if len(jobs) == 1:
                answers["job"] = jobs[0].ref
                continue
            if not jobs:
                context.user_data.pop("guided", None)
                await update.effective_chat.send_message("You have no active jobs yet. Start one with /newjob.")
                return ConversationHandler.END
        choices = await asyncio.to_thread(question.choices, s, actor, answers) if question.choices else []
        await send(update, Reply(question.prompt + "\n(/cancel to stop)",
                                 [[(label, f"ans:{value}") for label, value in row] for row in choices]), context)
        return ASKING
    context.user_data.pop("guided", None)
    await run(update, context, lambda: command.run(s, actor, answers))
    return ConversationHandler.END


async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int | str:
    """The contractor's answer to the current question, typed or tapped."""
    guided = context.user_data.get("guided")
    actor = await actor_of(update)
    if not guided or actor is None:
        return ConversationHandler.END
    if update.callback_query:
        await update.callback_query.answer()
        value = update.callback_query.data.removeprefix("ans:")
    else:
        value = update.message.text
    command = COMMANDS[guided["command"]]
    pending = next(q for q in command.questions if q.key not in guided["answers"])
    guided["answers"][pending.key] = value.strip()
    return await ask_next(update, context, actor)


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """/cancel: leave whatever we were doing."""
    stopped = context.user_data.pop("guided", None)
    await update.effective_chat.send_message("Stopped. Nothing was changed." if stopped else "Nothing to cancel.")
    return ConversationHandler.END


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Buttons under the bot's messages: send a plan, apply a price change, mark an event done, open a job."""
    query = update.callback_query
    await query.answer()
    actor = await actor_of(update)
    if actor is None:
        return
    s = services(context)
    kind, _, rest = query.data.partition(":")
    if kind == "drop":
        await query.edit_message_reply_markup(None)
        await update.effective_chat.send_message("Dropped. Nothing was changed.")
    elif kind == "apply":
        kept = context.user_data.get("pending", {}).pop(rest, None)
        if kept is None:
            await update.effective_chat.send_message("That preview was already applied or dropped.")
            return
        if await run(update, context, lambda: apply_change(s, actor, kept)):
            await query.edit_message_reply_markup(None)
    elif kind == "send":
        if await run(update, context, lambda: run_send(s, actor, {"job": rest})):
            await query.edit_message_reply_markup(None)
    elif kind == "job":
        await run(update, context, lambda: job_card_reply(s, actor, rest))
    elif kind == "link":
        await run(update, context, lambda: run_link(s, actor, {"job": rest}))
    elif kind == "done":
        ref, _, index = rest.rpartition(":")

        def done() -> Reply:
            event = job_status(s.ctx, actor, ref).events[int(index)]
            return run_done(s, actor, {"job": ref, "event": event.name})

        await run(update, context, done)


async def relay_reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A reply to a customer's relayed text goes back to them by SMS."""
    message = update.message
    actor = await actor_of(update)
    if actor is None or message.reply_to_message is None:
        return
    try:
        job = await asyncio.to_thread(reply_to_customer, services(context).ctx, actor, str(message.chat_id),
                                      str(message.reply_to_message.message_id), str(message.message_id),
                                      message.text)
    except NotFound:
        return  # not a reply to a relayed text: the other handlers decide
    except PaystageError as error:
        await update.effective_chat.send_message(str(error))
        raise ApplicationHandlerStop from None
    await update.effective_chat.send_message(f"Sent to {job.customer_name} by SMS.")
    raise ApplicationHandlerStop


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    log.error("handling an update failed", exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat:
        await update.effective_chat.send_message(SORRY)


