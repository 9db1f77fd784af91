"""The Telegram bot: one python-telegram-bot Application, wired in one place."""

import logging
from dataclasses import replace
from warnings import filterwarnings

from telegram import BotCommand
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    BasePersistence,
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    PersistenceInput,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot import handlers
from bot.commands import COMMANDS, Services, menu
from core.wording import contractor_texts
from core.wording.language import ENGLISH, LANGUAGES, speaking

log = logging.getLogger(__name__)

GUIDED = [name for name in COMMANDS if name != "start"]
REF = r"J-[A-Z0-9]{4,6}"
BUTTONS = {  # the data each button under the bot's messages carries, and what a tap on it does
    r"^drop$": handlers.drop_button,
    r"^change:(send|replace|wait):(\w+)$": handlers.change_button,  # under a price change's preview
    rf"^send:({REF})$": handlers.send_button,
    rf"^job:({REF})$": handlers.job_button,
    rf"^link:({REF})$": handlers.link_button,
    rf"^done:({REF}):e(\d{{1,18}})$": handlers.done_button,  # an event's id, not its place in a list
    rf"^doneanyway:({REF}):e(\d{{1,18}})$": handlers.done_anyway_button,  # /done asked: an earlier event is open
    rf"^lang:({REF}):([a-z]{{2}})$": handlers.language_button,  # the language the customer's texts are to be in
}
# what the bot keeps across restarts: where each guided conversation stands, and each user's pending answers
PERSISTED = PersistenceInput(bot_data=False, chat_data=False, user_data=True, callback_data=False)
# button taps in a guided command belong to the chat's conversation, not to one message: per_message=False is meant
filterwarnings("ignore", message=".*per_message=False.*CallbackQueryHandler", category=PTBUserWarning)


def build_application(token: str, services: Services, *, persistence: BasePersistence | None = None,
                      api_base_url: str | None = None, polling: bool = True) -> Application:
    """The bot. `api_base_url` points it at another Bot API server (self-hosted, or the local one in sandbox/)."""
    builder = ApplicationBuilder().token(token).post_init(_register_commands)
    if api_base_url:
        base = api_base_url.rstrip("/")
        builder = builder.base_url(f"{base}/bot").base_file_url(f"{base}/file/bot")
    if persistence is not None:
        if persistence.store_data.bot_data:
            raise ValueError("bot_data holds the services; persist conversations and user_data only")
        builder = builder.persistence(persistence)
    if not polling:
        builder = builder.updater(None)  # updates arrive through the web app's webhook
    app = builder.build()
    app.bot_data["services"] = replace(services, bot=app.bot)  # its @username makes /invite's t.me link

    guided = ConversationHandler(
        entry_points=[CommandHandler("start", handlers.start),  # a new contractor is asked their business's name
                      CommandHandler(GUIDED, handlers.entry),
                      CallbackQueryHandler(handlers.ask_button, pattern=rf"^ask:(\w+):({REF})$"),
                      CallbackQueryHandler(handlers.apply_anyway_button, pattern=r"^change:force:(\w+)$")],
        states={handlers.ASKING: [MessageHandler(filters.TEXT & ~filters.COMMAND, handlers.answer),
                                  CallbackQueryHandler(handlers.answer, pattern=r"^ans:")]},
        fallbacks=[CommandHandler("cancel", handlers.cancel), CommandHandler("skip", handlers.skip)],
        allow_reentry=True,  # a new command in the middle of questions starts over
        name="guided",
        persistent=persistence is not None,
    )
    app.add_handler(MessageHandler(filters.REPLY & filters.TEXT & ~filters.COMMAND, handlers.relay_reply), group=-1)
    app.add_handler(guided)
    app.add_handler(CommandHandler("cancel", handlers.cancel))
    app.add_handler(CommandHandler("skip", handlers.skip))
    for pattern, callback in BUTTONS.items():
        app.add_handler(CallbackQueryHandler(callback, pattern=pattern))
    app.add_handler(CallbackQueryHandler(handlers.stale_button))  # whatever no pattern above matched
    app.add_error_handler(handlers.on_error)
    return app


async def _register_commands(app: Application) -> None:
    """The command menu Telegram shows beside the message box: in English by default, and in each language we
    write for the users whose Telegram app speaks it. Without it the commands still work: a failure is logged."""
    for language in LANGUAGES:
        with speaking(language):
            commands = [BotCommand(name, text) for name, text in contractor_texts.command_menu(menu())]
        try:
            await app.bot.set_my_commands(commands, language_code=None if language == ENGLISH else language)
        except TelegramError as error:
            log.warning("the %s command menu was not registered: %s", language, error)
