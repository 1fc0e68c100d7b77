// bun run demo: the seed's first scenario. The user has the bot open in Telegram, starts the
// client in immediate mode, presses 🧪 Тест; the client notices the announcement and books.

import { BUTTON, TEXT } from "../lib/ui.ts";
import { Human } from "../sandbox/human.ts";
import { writeClientConfig } from "./client-config.ts";
import type { SandboxOptions } from "../sandbox/index.ts";
import { BOT_USERNAME, say, startClient, startStack } from "./stack.ts";

const PHONE = "+79990000001";
const SMS_DELAY_MS = 1500;

export async function demoImmediate(sandbox?: SandboxOptions, ui = "classic"): Promise<number> {
  const stack = await startStack({ env: { TEST_SMS_DELAY_MS: String(SMS_DELAY_MS), BOOKING_TIME: "23:59:59", BOT_UI: ui }, sandbox });
  const { sb } = stack;
  try {
    const user = sb.world.userForPhone(PHONE, "Анна");
    const anna = new Human(sb.world, user.id, BOT_USERNAME);
    const menu = anna.waitFor((m) => m.text.length > 0);
    anna.send("/start");
    say(`user: Анна (${PHONE}, id ${user.id}) opened the bot and sent /start; the bot answered: ${JSON.stringify((await menu).text)}`);

    const config = writeClientConfig(stack.dir, { sandboxUrl: sb.botApiUrl, botUsername: BOT_USERNAME, phone: PHONE, cities: [["Челябинск"], ["Екатеринбург"]] });
    const client = startClient(stack.dir, ["--mode", "immediate", "--config", config]);
    await client.waitFor(/watching/i, 30_000);

    const result = anna.waitFor((m) => m.text.includes(TEXT.testResultHead), { timeoutMs: 30_000 });
    await anna.press(BUTTON.test);
    say(`user: Анна pressed ${BUTTON.test}; the bot announces the test opening in ${SMS_DELAY_MS / 1000} s…`);
    const ticker = setInterval(() => say("  … waiting for the announcement and the booking"), 1000);
    let code: number;
    try {
      code = await Promise.race([client.exited, Bun.sleep(30_000).then(() => -1)]);
    } finally {
      clearInterval(ticker);
    }
    if (code === -1) {
      say("the client did not finish within 30 s");
      return 1;
    }
    const m = await result.catch(() => undefined);
    say("");
    say("The bot's server-side reaction times (its 🧪 test result message):");
    say(m ? m.text.split("\n").map((l) => `  ${l}`).join("\n") : "  (no test result message: the booking did not complete)");
    say("");
    say(code === 0 && m ? "✓ booked: client.ts exited 0" : `✗ not booked: client.ts exited ${code}`);
    anna.close();
    return code === 0 && m ? 0 : 1;
  } finally {
    await stack.stop();
  }
}
