"""The bot's callbacks: thin — read the update, run one command, send its reply.

The database work runs in worker threads (asyncio.to_thread), never on the
bot's event loop: on SQLite a write may wait for another writer (the
dispatcher, the web app), and that wait must not freeze every other chat.

Conversation state for a guided command lives in `user_data["guided"]`
(persisted, so a restart continues where the contractor was); pending
confirmations (a price change waiting for Apply) in `user_data["pending"]`.
Each answer is checked as it arrives (bot.commands.accept): a wrong one is
said so and asked again, the earlier answers kept.
"""

import asyncio
import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import ApplicationHandlerStop, ContextTypes, ConversationHandler

from bot.commands import (
    COMMANDS,
    JOB,
    MAX_BUTTON_DATA,
    Reply,
    Services,
    accept,
    accept_tap,
    apply_change,
    choice_buttons,
    done_by_id,
    job_card_reply,
    run_join,
    run_link,
    run_send,
)
from core.context import Actor
from core.errors import NotFound, PaystageError
from core.jobs import contractor_by_telegram, contractor_jobs
from core.relay import reply_to_customer

log = logging.getLogger(__name__)

ASKING = "asking"
SORRY = "Sorry, something went wrong on my side. Nothing was changed; please try again."
STALE_BUTTON = "That button no longer works. Nothing was changed; send the command again (/help lists them)."


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    return context.application.bot_data["services"]


async def send(update: Update, reply: Reply, context: ContextTypes.DEFAULT_TYPE) -> None:
    too_long = [data for row in reply.buttons for _, data in row if len(data.encode()) > MAX_BUTTON_DATA]
    if too_long:  # Telegram would refuse the whole message: a bug of ours, never the contractor's
        raise ValueError(f"button data over {MAX_BUTTON_DATA} bytes: {too_long}")
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
    """/start, or /start CODE from an invite link: let the Telegram user in, or tell them how to get in."""
    s, user = services(context), update.effective_user
    code = " ".join(context.args or [])
    await run(update, context, lambda: run_join(s, user.id, user.full_name or "My business", code))
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
    actor = await pressed(update)
    name, ref = context.matches[0].groups()
    command = COMMANDS.get(name)
    if actor is None or command is None or not command.questions:
        await update.effective_chat.send_message(STALE_BUTTON)
        return ConversationHandler.END
    try:
        ref = await asyncio.to_thread(accept, services(context), actor, JOB, {}, ref)
    except PaystageError as error:
        await update.effective_chat.send_message(f"{error}\nNothing was changed.")
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
        try:
            choices = await asyncio.to_thread(question.choices, s, actor, answers) if question.choices else []
        except PaystageError as error:  # an answer so far names no job of theirs, or one that cannot do this
            context.user_data.pop("guided", None)
            await update.effective_chat.send_message(f"{error}\nNothing was changed.")
            return ConversationHandler.END
        await send(update, Reply(question.prompt + "\n(/cancel to stop)", choice_buttons(question, choices)), context)
        return ASKING
    context.user_data.pop("guided", None)
    await run(update, context, lambda: command.run(s, actor, answers))
    return ConversationHandler.END


async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int | str:
    """The contractor's answer to the current question, typed or tapped, checked before it is kept."""
    guided = context.user_data.get("guided")
    actor = await actor_of(update)
    if not guided or actor is None:
        return ConversationHandler.END
    s, answers = services(context), guided["answers"]
    pending = next(q for q in COMMANDS[guided["command"]].questions if q.key not in answers)
    if update.callback_query:
        await update.callback_query.answer()
        read, given = accept_tap, update.callback_query.data.removeprefix("ans:")
    else:
        read, given = accept, update.message.text
    try:
        answers[pending.key] = await asyncio.to_thread(read, s, actor, pending, answers, given)
    except PaystageError as error:
        await update.effective_chat.send_message(str(error))
    return await ask_next(update, context, actor)  # the next question, or the same again after a wrong answer


async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """/cancel: leave whatever we were doing."""
    stopped = context.user_data.pop("guided", None)
    await update.effective_chat.send_message("Stopped. Nothing was changed." if stopped else "Nothing to cancel.")
    return ConversationHandler.END


async def pressed(update: Update) -> Actor | None:
    """Acknowledge a button tap (Telegram shows a spinner until then) and say who tapped it."""
    await update.callback_query.answer()
    return await actor_of(update)


async def drop_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Cancel under a preview: nothing is applied."""
    await pressed(update)
    await update.callback_query.edit_message_reply_markup(None)
    await update.effective_chat.send_message("Dropped. Nothing was changed.")


async def apply_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Apply under a price-change preview."""
    actor = await pressed(update)
    kept = context.user_data.get("pending", {}).pop(context.matches[0].group(1), None)
    if actor is None or kept is None:
        await update.effective_chat.send_message("That preview was already applied or dropped.")
        return
    if await run(update, context, lambda: apply_change(services(context), actor, kept)):
        await update.callback_query.edit_message_reply_markup(None)


async def send_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send to customer under a plan preview."""
    actor, ref = await pressed(update), context.matches[0].group(1)
    if actor and await run(update, context, lambda: run_send(services(context), actor, {"job": ref})):
        await update.callback_query.edit_message_reply_markup(None)


async def job_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A job in /jobs: its card."""
    actor, ref = await pressed(update), context.matches[0].group(1)
    if actor:
        await run(update, context, lambda: job_card_reply(services(context), actor, ref))


async def link_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Payment link on a job card."""
    actor, ref = await pressed(update), context.matches[0].group(1)
    if actor:
        await run(update, context, lambda: run_link(services(context), actor, {"job": ref}))


async def done_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An event's "done" on a job card ("done:J-7K2Q:e42"): the event by its id, looked up within that job."""
    actor = await pressed(update)
    ref, event_id = context.matches[0].group(1), int(context.matches[0].group(2))
    if actor:
        await run(update, context, lambda: done_by_id(services(context), actor, ref, event_id))


async def stale_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any other tap: a button from an older version, or data no button of ours carries."""
    await update.callback_query.answer()
    await update.effective_chat.send_message(STALE_BUTTON)


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


