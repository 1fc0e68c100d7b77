// `bun run sandbox`: the sandbox as a standalone process, with the default bot ready to use.
// Flags: --rate-limit [telegram|off], --flood-wait N (MTProto requests/s per user), --clock-skew-ms N,
// --callback-timeout-ms N, and network conditions per door (one-way delay each way, ± jitter):
// --mtproto-delay-ms N --mtproto-jitter-ms N --botapi-delay-ms N --botapi-jitter-ms N.
// Ports: SANDBOX_BOT_API_PORT, SANDBOX_MTPROTO_PORT.

import { parseArgs } from "node:util";
import { SANDBOX_BOT_TOKEN, SANDBOX_BOT_USERNAME, SANDBOX_DB_PATH } from "./defaults.ts";
import { startSandbox } from "./index.ts";
import { sandboxUsage } from "./usage.ts";

const USAGE = `usage: bun run sandbox [--rate-limit [telegram|off]] [--flood-wait N] [--clock-skew-ms N] [--callback-timeout-ms N]
         [--mtproto-delay-ms N] [--mtproto-jitter-ms N] [--botapi-delay-ms N] [--botapi-jitter-ms N]
  --rate-limit telegram: Telegram's limits on a bot's sends and edits (about 30/s overall, 1/s per chat), 429 retry_after
  delays are one way, applied in each direction (round trip = 2 × delay), jitter uniform ± N
  ports: SANDBOX_BOT_API_PORT (default 8081), SANDBOX_MTPROTO_PORT (default 8443)`;

function num(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) {
    console.error(`--${name} needs a number, got "${v}"\n${USAGE}`);
    process.exit(2);
  }
  return n;
}

/** A bare --rate-limit (no value after it) means Telegram's limits. */
function withRateLimitValue(argv: string[]): string[] {
  return argv.map((a, i) => (a === "--rate-limit" && (i + 1 >= argv.length || argv[i + 1]!.startsWith("-")) ? "--rate-limit=telegram" : a));
}

let args;
try {
  args = parseArgs({
    args: withRateLimitValue(process.argv.slice(2)),
    options: {
      "rate-limit": { type: "string" },
      "flood-wait": { type: "string" },
      "clock-skew-ms": { type: "string" },
      "callback-timeout-ms": { type: "string" },
      "mtproto-delay-ms": { type: "string" },
      "mtproto-jitter-ms": { type: "string" },
      "botapi-delay-ms": { type: "string" },
      "botapi-jitter-ms": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  }).values;
} catch (e) {
  console.error(`${(e as Error).message}\n${USAGE}`);
  process.exit(2);
}
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}

const rateLimit = args["rate-limit"] ?? "off";
if (rateLimit !== "telegram" && rateLimit !== "off") {
  console.error(`--rate-limit takes "telegram" or "off", got "${rateLimit}"\n${USAGE}`);
  process.exit(2);
}
const floodWait = num("flood-wait", args["flood-wait"]);
const delay = (door: "mtproto" | "botapi") => ({
  delayMs: num(`${door}-delay-ms`, args[`${door}-delay-ms`]) ?? 0,
  jitterMs: num(`${door}-jitter-ms`, args[`${door}-jitter-ms`]) ?? 0,
});
const mtprotoDelay = delay("mtproto");
const botApiDelay = delay("botapi");
const describeDelay = (d: { delayMs: number; jitterMs: number }) => (d.delayMs || d.jitterMs ? `${d.delayMs} ± ${d.jitterMs} ms each way` : "none");
let sandbox;
try {
  sandbox = await startSandbox({
    rateLimit,
    floodWait: floodWait ? { requestsPerSecond: floodWait } : null,
    clockSkewMs: num("clock-skew-ms", args["clock-skew-ms"]),
    callbackTimeoutMs: num("callback-timeout-ms", args["callback-timeout-ms"]),
    bots: [{ token: SANDBOX_BOT_TOKEN, username: SANDBOX_BOT_USERNAME }],
    mtprotoDelay,
    botApiDelay,
  });
} catch (e) {
  console.error(`sandbox: ${(e as Error).message}`);
  process.exit(1);
}

const sb = sandbox;
const use = sandboxUsage(sb.botApiUrl);
console.log(`Telegram sandbox (loopback only)
  web chat  ${use.web}
  Bot API   ${sb.botApiUrl}/bot<token>/<method>   (any token <digits>:<secret> is a bot)
  MTProto   ${sb.mtprotoHost}:${sb.mtprotoPort}
  control   ${sb.controlUrl}/health | users | send | press | history | session
  options   rate limit ${rateLimit}, flood wait ${floodWait ? `${floodWait} req/s` : "off"}, clock skew ${args["clock-skew-ms"] ?? 0} ms
  delay     MTProto ${describeDelay(mtprotoDelay)}, Bot API ${describeDelay(botApiDelay)}

Run the bot against it:
  BOT_API_URL=${sb.botApiUrl} BOT_TOKEN=${SANDBOX_BOT_TOKEN} DB_PATH=${SANDBOX_DB_PATH} bun run bot
Act as a person (default bot @${SANDBOX_BOT_USERNAME}):
  ${use.cli.join("\n  ")}
Press Ctrl+C to stop.`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  await sb.stop();
  console.log("sandbox stopped");
  process.exit(0);
};
process.on("SIGINT", stop);
process.on("SIGTERM", stop);
