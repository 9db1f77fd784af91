"""The bot's callbacks: thin — read the update, run one command, send its reply.

The database work runs in worker threads (asyncio.to_thread), never on the
bot's event loop: on SQLite a write may wait for another writer (the
dispatcher, the web app), and that wait must not freeze every other chat.

Conversation state for a guided command lives in `user_data["guided"]`
(persisted, so a restart continues where the contractor was); pending
confirmations (a price change waiting for a button under its preview) in `user_data["pending"]`.
Each answer is checked as it arrives (bot.commands.accept): a wrong one is
said so and asked again, the earlier answers kept.

Every callback speaks the language of the contractor's Telegram app
(`in_their_language`): what it says, and what the database work it starts in a
thread says (asyncio.to_thread copies the context, core's refusals included).
That language is kept as the contractor's (core.jobs.note_language), so what
the worker tells them later is in it too. The words are all
core.wording.contractor_texts'.
"""

import asyncio
import logging
from functools import wraps

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
    choice_buttons,
    contractor_speaking,
    done_by_id,
    job_card_reply,
    run_join,
    run_language,
    run_link,
    run_send,
    send_change,
)
from core.context import Actor
from core.errors import NotFound, PaystageError
from core.jobs import contractor_jobs
from core.relay import reply_to_customer
from core.wording import contractor_texts as texts
from core.wording.language import speaking, supported

log = logging.getLogger(__name__)

ASKING = "asking"
MAX_CAPTION = 1024  # UTF-16 code units of a document's caption Telegram takes


def told_language(update: object) -> str | None:
    """The language we write for what the user's Telegram app speaks; None when Telegram does not say."""
    user = update.effective_user if isinstance(update, Update) else None
    return supported(user.language_code) if user and user.language_code else None


def in_their_language(callback):
    """`callback(update, context)` speaking the language of the user's Telegram app (English when it does not
    say, or is one we do not write)."""

    @wraps(callback)
    async def speaking_theirs(update: object, context: ContextTypes.DEFAULT_TYPE):
        with speaking(told_language(update)):
            return await callback(update, context)

    return speaking_theirs


def services(context: ContextTypes.DEFAULT_TYPE) -> Services:
    return context.application.bot_data["services"]


async def send(update: Update, reply: Reply, context: ContextTypes.DEFAULT_TYPE) -> None:
    too_long = [data for row in reply.buttons for _label, data in row if len(data.encode()) > MAX_BUTTON_DATA]
    if too_long:  # Telegram would refuse the whole message: a bug of ours, never the contractor's
        raise ValueError(f"button data over {MAX_BUTTON_DATA} bytes: {too_long}")
    if reply.keep:
        context.user_data.setdefault("pending", {}).update(reply.keep)
    markup = InlineKeyboardMarkup([[InlineKeyboardButton(label, callback_data=data) for label, data in row]
                                   for row in reply.buttons]) if reply.buttons else None
    chat = update.effective_chat
    if reply.document is None:
        await chat.send_message(reply.text, reply_markup=markup, disable_web_page_preview=True)
        return
    filename, content = reply.document
    if len(reply.text.encode("utf-16-le")) // 2 <= MAX_CAPTION:
        await chat.send_document(content, filename=filename, caption=reply.text or None, reply_markup=markup)
    else:  # a caption Telegram would refuse: the words as a message of their own, after the file
        await chat.send_document(content, filename=filename)
        await chat.send_message(reply.text, reply_markup=markup, disable_web_page_preview=True)


async def actor_of(update: Update) -> Actor | None:
    """The contractor who sent the update, their app's language kept as theirs; None for anyone else."""
    contractor = await asyncio.to_thread(contractor_speaking, update.effective_user.id, told_language(update))
    return Actor.contractor(contractor.id) if contractor else None


async def run(update: Update, context: ContextTypes.DEFAULT_TYPE, action) -> bool:
    """Run `action()` (a command's reply) and send what it says; False when it was refused."""
    try:
        reply = await asyncio.to_thread(action)
    except PaystageError as error:
        await update.effective_chat.send_message(texts.refused(str(error)))
        return False
    await send(update, reply, context)
    return True


@in_their_language
async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int | str:
    """/start, or /start CODE from an invite link: let the Telegram user in, or tell them how to get in. Someone
    who has just registered (with their Telegram name) is asked what their business is called: the answer is
    /start's (bot.commands.run_start), and /skip or any other command keeps the name."""
    s, user, language = services(context), update.effective_user, told_language(update)
    code = " ".join(context.args or [])
    context.user_data.pop("guided", None)  # whatever was being asked, /start starts over
    try:
        reply = await asyncio.to_thread(run_join, s, user.id, user.full_name or texts.unnamed_business(), code,
                                        language)
    except PaystageError as error:
        await update.effective_chat.send_message(texts.refused(str(error)))
        return ConversationHandler.END
    await send(update, reply, context)
    if not reply.asking:
        return ConversationHandler.END
    context.user_data["guided"] = {"command": reply.asking, "answers": {}}
    return ASKING


@in_their_language
async def entry(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int | str:
    """Any command: in one line when it has arguments, else step by step."""
    head, _space, args = update.message.text.partition(" ")
    name = head.lstrip("/").split("@")[0].lower()
    command = COMMANDS[name]
    s = services(context)
    if args.strip() or not command.questions:
        return await one_line(update, context, lambda actor: command.run(s, actor, command.parse(s, actor, args)))
    actor = await actor_of(update)
    if actor is None:
        await update.effective_chat.send_message(texts.start_first())
        return ConversationHandler.END
    context.user_data["guided"] = {"command": name, "answers": {}}
    return await ask_next(update, context, actor)


async def one_line(update: Update, context: ContextTypes.DEFAULT_TYPE, action) -> int:
    """A command in one line (/job J-7K2Q): who sent it and what `action(actor)` answers them, found in one trip
    to a worker thread, not one for each: the second trip cost /job 0.13 ms of CPU an update (bench/bot_updates.py)."""
    telegram_id, language = update.effective_user.id, told_language(update)

    def work() -> Reply | PaystageError | None:
        contractor = contractor_speaking(telegram_id, language)
        if contractor is None:
            return None
        try:
            return action(Actor.contractor(contractor.id))
        except PaystageError as error:
            return error

    done = await asyncio.to_thread(work)
    if done is None:
        await update.effective_chat.send_message(texts.start_first())
        return ConversationHandler.END
    context.user_data.pop("guided", None)  # whatever was being asked is left
    if isinstance(done, PaystageError):
        await update.effective_chat.send_message(texts.refused(str(done)))
    else:
        await send(update, done, context)
    return ConversationHandler.END


@in_their_language
async def ask_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int | str:
    """A button that starts a guided command for one job ("ask:paid:J-7K2Q")."""
    actor = await pressed(update)
    name, ref = context.matches[0].groups()
    command = COMMANDS.get(name)
    if actor is None or command is None or not command.questions or command.questions[0] is not JOB:
        await update.effective_chat.send_message(texts.stale_button())
        return ConversationHandler.END
    try:
        ref = await asyncio.to_thread(accept, services(context), actor, JOB, {}, ref)
    except PaystageError as error:
        await update.effective_chat.send_message(texts.refused(str(error)))
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
                await update.effective_chat.send_message(texts.no_jobs_yet())
                return ConversationHandler.END
        try:
            choices = await asyncio.to_thread(question.choices, s, actor, answers) if question.choices else []
        except PaystageError as error:  # an answer so far names no job of theirs, or one that cannot do this
            context.user_data.pop("guided", None)
            await update.effective_chat.send_message(texts.refused(str(error)))
            return ConversationHandler.END
        await send(update, Reply(texts.question(question.prompt), choice_buttons(question, choices)), context)
        return ASKING
    context.user_data.pop("guided", None)
    await run(update, context, lambda: command.run(s, actor, answers))
    return ConversationHandler.END


@in_their_language
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


@in_their_language
async def skip(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int | str:
    """/skip: leave a question that may be left (a new contractor's business name at /start) as it is."""
    guided = context.user_data.get("guided")
    command = COMMANDS.get(guided["command"]) if guided else None
    if command is None or command.skip is None:
        await update.effective_chat.send_message(texts.nothing_to_skip(asking=command is not None))
        return ASKING if command is not None else ConversationHandler.END
    context.user_data.pop("guided", None)
    actor = await actor_of(update)
    if actor is not None:
        await run(update, context, lambda: command.skip(services(context), actor, guided["answers"]))
    return ConversationHandler.END


@in_their_language
async def cancel(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int:
    """/cancel: leave whatever we were doing."""
    stopped = context.user_data.pop("guided", None)
    await update.effective_chat.send_message(texts.stopped(bool(stopped)))
    return ConversationHandler.END


async def pressed(update: Update) -> Actor | None:
    """Acknowledge a button tap (Telegram shows a spinner until then) and say who tapped it."""
    await update.callback_query.answer()
    return await actor_of(update)


@in_their_language
async def drop_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Cancel under a preview: nothing is applied."""
    await pressed(update)
    await update.callback_query.edit_message_reply_markup(None)
    await update.effective_chat.send_message(texts.dropped())


@in_their_language
async def change_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Under a price-change preview ("change:send:TOKEN"): send it for approval (apply it, to a plan not sent
    yet), replace the change order waiting for an answer with it, or send it once that one is answered."""
    actor = await pressed(update)
    how, token = context.matches[0].groups()
    kept = context.user_data.get("pending", {}).pop(token, None)
    if actor is None or kept is None:
        await update.effective_chat.send_message(texts.preview_gone())
        return
    if await run(update, context, lambda: send_change(services(context), actor, kept, how)):
        await update.callback_query.edit_message_reply_markup(None)


@in_their_language
async def apply_anyway_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> int | str:
    """"Apply without approval" under a price-change preview ("change:force:TOKEN"): /apply's question, why, is
    asked, and its answer applies the change previewed."""
    actor = await pressed(update)
    kept = context.user_data.get("pending", {}).pop(context.matches[0].group(1), None)
    if actor is None or kept is None:
        await update.effective_chat.send_message(texts.preview_gone())
        return ConversationHandler.END
    await update.callback_query.edit_message_reply_markup(None)
    context.user_data["guided"] = {"command": "apply", "answers": {"job": kept["job"], "change": kept}}
    return await ask_next(update, context, actor)


@in_their_language
async def send_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send to customer under a plan preview."""
    actor, ref = await pressed(update), context.matches[0].group(1)
    if actor and await run(update, context, lambda: run_send(services(context), actor, {"job": ref})):
        await update.callback_query.edit_message_reply_markup(None)


@in_their_language
async def job_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A job in /jobs: its card."""
    actor, ref = await pressed(update), context.matches[0].group(1)
    if actor:
        await run(update, context, lambda: job_card_reply(services(context), actor, ref))


@in_their_language
async def link_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Payment link on a job card."""
    actor, ref = await pressed(update), context.matches[0].group(1)
    if actor:
        await run(update, context, lambda: run_link(services(context), actor, {"job": ref}))


@in_their_language
async def done_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """An event's "done" on a job card ("done:J-7K2Q:e42"): the event by its id, looked up within that job."""
    actor = await pressed(update)
    ref, event_id = context.matches[0].group(1), int(context.matches[0].group(2))
    if actor:
        await run(update, context, lambda: done_by_id(services(context), actor, ref, event_id))


@in_their_language
async def done_anyway_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """"Mark Removal done anyway" ("doneanyway:J-7K2Q:e42"), under /done's question about an earlier event still
    to happen: the event by its id within that job, marked done."""
    actor = await pressed(update)
    ref, event_id = context.matches[0].group(1), int(context.matches[0].group(2))
    if actor and await run(update, context, lambda: done_by_id(services(context), actor, ref, event_id,
                                                               anyway=True)):
        await update.callback_query.edit_message_reply_markup(None)


@in_their_language
async def language_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """"Texts in Spanish" on a job card ("lang:J-7K2Q:es"): the customer's texts in that language from now on."""
    actor = await pressed(update)
    ref, language = context.matches[0].group(1), context.matches[0].group(2)
    if actor:
        await run(update, context, lambda: run_language(services(context), actor, ref, language))


@in_their_language
async def stale_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any other tap: a button from an older version, or data no button of ours carries."""
    await update.callback_query.answer()
    await update.effective_chat.send_message(texts.stale_button())


@in_their_language
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
    await update.effective_chat.send_message(texts.sent_by_sms(job.customer_name))
    raise ApplicationHandlerStop


@in_their_language
async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    log.error("handling an update failed", exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat:
        await update.effective_chat.send_message(texts.sorry())


