// Where the sandbox listens unless told otherwise, and the bot it hosts when bot.ts has no token.
// Nothing here reads the environment on import: the port variables are read by the functions
// below, when a sandbox starts or a CLI runs.

export const SANDBOX_HOST = "127.0.0.1";
/** The sandbox's port variables and their defaults; 0 means "any free port". */
export const SANDBOX_PORT_DEFAULTS = { SANDBOX_BOT_API_PORT: 8081, SANDBOX_MTPROTO_PORT: 8443 } as const;
export type SandboxPortVar = keyof typeof SANDBOX_PORT_DEFAULTS;

/**
 * The port a sandbox variable asks for: its default when unset or empty, NaN when the value is not
 * a whole number 0-65535 (bot.ts's config refuses that with the variable's name; other callers get
 * the listen error). The one place these variables are read.
 */
export function sandboxPortFromEnv(name: SandboxPortVar, env: Record<string, string | undefined> = process.env): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === "") return SANDBOX_PORT_DEFAULTS[name];
  return /^\d{1,5}$/.test(raw) && Number(raw) <= 65535 ? Number(raw) : NaN;
}

export const SANDBOX_BOT_TOKEN = "7000000001:sandbox-booking-bot";
export const SANDBOX_BOT_USERNAME = "aprel_booking_bot";

/** The sandbox's HTTP root as the environment names it: SANDBOX_URL, else the host and SANDBOX_BOT_API_PORT. */
export function sandboxUrlFromEnv(env: Record<string, string | undefined> = process.env): string {
  const url = env.SANDBOX_URL?.trim();
  if (url) return url.replace(/\/+$/, "");
  return `http://${SANDBOX_HOST}:${sandboxPortFromEnv("SANDBOX_BOT_API_PORT", env)}`;
}

/** bot.ts's database on the sandbox when DB_PATH is not set, apart from a real bot's bot.db. */
export const SANDBOX_DB_PATH = "bot-sandbox.db";
/** The login code the sandbox accepts for every phone number (auth.signIn): a test value, not a secret. */
export const SANDBOX_LOGIN_CODE = "12345";
/** The sandbox checks no api_id/api_hash, but gramjs needs some: these. */
export const SANDBOX_API_CREDENTIALS = { apiId: 1, apiHash: "sandbox" } as const;
/**
 * How the watch view recognises the default bot's opening (its announcement and results). They are
 * that bot's texts (lib/ui.ts RECOGNISE, which the sandbox may not import): a test keeps them equal;
 * startSandbox({ watchTexts }) sets others.
 */
export const SANDBOX_WATCH_TEXTS = { announcement: "Бронирование открыто", booked: "Забронировано", soldOut: "Мест нет" };
