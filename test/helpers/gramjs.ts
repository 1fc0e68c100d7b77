// A gramjs client on a sandbox session, as the tests use it: one attempt, a short timeout.
import { connectClient, type TelegramClient } from "../../lib/client/gramjs/connect.ts";
import { SANDBOX_API_CREDENTIALS } from "../../sandbox/defaults.ts";

export const TEST_API = { ...SANDBOX_API_CREDENTIALS, connectionRetries: 1, timeoutSec: 5 };

export function connectSandboxClient(session: string): Promise<TelegramClient> {
  return connectClient(session, TEST_API);
}
