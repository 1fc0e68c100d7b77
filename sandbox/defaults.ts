// Where the sandbox listens unless told otherwise, and the bot it hosts when bot.ts has no token.
// The client finds the sandbox here when its config has no Telegram credentials.

export const SANDBOX_HOST = "127.0.0.1";
export const SANDBOX_BOT_API_PORT = Number(process.env.SANDBOX_BOT_API_PORT ?? 8081);
export const SANDBOX_MTPROTO_PORT = Number(process.env.SANDBOX_MTPROTO_PORT ?? 8443);
export const SANDBOX_BOT_TOKEN = "7000000001:sandbox-booking-bot";
export const SANDBOX_BOT_USERNAME = "aprel_booking_bot";
export const SANDBOX_URL = `http://${SANDBOX_HOST}:${SANDBOX_BOT_API_PORT}`;
/** bot.ts's database on the sandbox when DB_PATH is not set, apart from a real bot's bot.db. */
export const SANDBOX_DB_PATH = "bot-sandbox.db";
