// bun run demo [--scheduled [--crowd N]] [--rtt-ms N] [--ui classic|edit|reply|alert]
// The whole system offline on loopback: sandbox, bot (bun bot.ts) and client (bun client.ts).

import { demoImmediate } from "./immediate.ts";
import { demoScheduled } from "./scheduled.ts";

const USAGE = `usage: bun run demo                      the 🧪 Тест rehearsal: client.ts --mode immediate books once
       bun run demo --scheduled [--crowd N]  the opening: client.ts --mode scheduled races N simulated people (default 100)
       --rtt-ms N                            the client's round trip to Telegram (the sandbox delays its MTProto door N/2 ms each way)
       --ui NAME                             the bot's UI (BOT_UI): classic, edit, reply or alert, like the bots people face`;

const UIS = ["classic", "edit", "reply", "alert"];

function parse(argv: string[]): { scheduled: boolean; crowd: number; rttMs: number; ui: string } {
  let scheduled = false;
  let ui = "classic";
  let crowd = 100;
  let rttMs = 0;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--scheduled") scheduled = true;
    else if (a === "--crowd" || a.startsWith("--crowd=")) {
      const v = a.includes("=") ? a.slice(a.indexOf("=") + 1) : argv[++i];
      const n = Number(v);
      if (!Number.isInteger(n) || n < 0 || n > 5000) throw new Error(`--crowd needs a whole number from 0 to 5000, not ${JSON.stringify(v)}`);
      crowd = n;
    } else if (a === "--rtt-ms" || a.startsWith("--rtt-ms=")) {
      const v = a.includes("=") ? a.slice(a.indexOf("=") + 1) : argv[++i];
      const n = Number(v);
      if (!Number.isFinite(n) || n < 0 || n > 10_000) throw new Error(`--rtt-ms needs a number of milliseconds from 0 to 10000, not ${JSON.stringify(v)}`);
      rttMs = n;
    } else if (a === "--ui" || a.startsWith("--ui=")) {
      const v = a.includes("=") ? a.slice(a.indexOf("=") + 1) : argv[++i];
      if (!UIS.includes(v ?? "")) throw new Error(`--ui needs one of ${UIS.join(", ")}, not ${JSON.stringify(v)}`);
      ui = v!;
    } else if (a === "--help" || a === "-h") {
      console.log(USAGE);
      process.exit(0);
    } else throw new Error(`unknown argument ${JSON.stringify(a)}`);
  }
  return { scheduled, crowd, rttMs, ui };
}

let args: ReturnType<typeof parse>;
try {
  args = parse(process.argv.slice(2));
} catch (e) {
  console.error(`${(e as Error).message}\n${USAGE}`);
  process.exit(2);
}

try {
  const sandbox = args.rttMs > 0 ? { mtprotoDelay: { delayMs: args.rttMs / 2 } } : undefined;
  const code = args.scheduled ? await demoScheduled(args.crowd, sandbox, args.ui) : await demoImmediate(sandbox, args.ui);
  process.exit(code);
} catch (e) {
  console.error(`demo failed: ${(e as Error).message}`);
  process.exit(1);
}
