// How a person uses a running sandbox: `bun run sandbox` prints it, and bot.ts logs it when it runs on one.

import { SANDBOX_BOT_USERNAME, SANDBOX_HOST, SANDBOX_PORT_DEFAULTS } from "./defaults.ts";

const PHONE = "+79990000001";

/** The web chat, and the CLI acting as a user (with --url when the sandbox is not on its default port). */
export function sandboxUsage(botApiUrl: string): { web: string; cli: string[]; defaultUrl: boolean } {
  const defaultUrl = botApiUrl === `http://${SANDBOX_HOST}:${SANDBOX_PORT_DEFAULTS.SANDBOX_BOT_API_PORT}`;
  const cli = `bun sandbox/cli.ts${defaultUrl ? "" : ` --url ${botApiUrl}`}`;
  return {
    web: `${botApiUrl}/?user=${PHONE} (every chat: ${botApiUrl}/?watch=${SANDBOX_BOT_USERNAME})`,
    cli: [
      `${cli} new-user --name Me --phone ${PHONE} (on a fresh sandbox the first user gets id 1000001: ADMIN_IDS=1000001 makes it an admin)`,
      `${cli} send --user ${PHONE} /start`,
      `${cli} press --user ${PHONE} "🧪 Тест"`,
      `${cli} history --user ${PHONE}`,
    ],
    defaultUrl,
  };
}
