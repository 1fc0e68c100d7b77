// Command-line arguments of client.ts, read with Node's util.parseArgs.

import { parseArgs as parse } from "node:util";

export interface ClientArgs {
  mode?: "immediate" | "scheduled";
  config: string;
  login: boolean;
  check: boolean;
  inspect: boolean;
  /** --inspect: send /start first */
  start: boolean;
  help: boolean;
}

export class UsageError extends Error {}

export const USAGE = `Usage: bun client.ts --mode immediate|scheduled [--config PATH]
       bun client.ts --login [--config PATH]
       bun client.ts --check [--config PATH]
       bun client.ts --inspect [--start] [--config PATH]

  --mode immediate   connect, wait for the bot's announcement, book once, print the stats
  --mode scheduled   wait until 60 s before booking.target_time, prepare, and book at the opening
  --login            log in to Telegram and save the session (in the sandbox: fetch one)
  --check            check the config, session, connection, bot and clock, each with ✓/✗
  --inspect          show the bot's latest messages as the client reads them: which texts.* match,
                     which button it would press (pressing nothing); --start sends /start first
  --config PATH      the config file (default: config.yaml)
  --help             this text

Exit codes: 0 booked (or check passed), 1 not booked (or a check failed), 2 bad config or
arguments, 130 interrupted (Ctrl+C), 143 terminated (SIGTERM).`;

export function parseArgs(argv: string[]): ClientArgs {
  let values;
  try {
    ({ values } = parse({
      args: argv,
      options: {
        mode: { type: "string" },
        config: { type: "string", default: "config.yaml" },
        login: { type: "boolean", default: false },
        check: { type: "boolean", default: false },
        inspect: { type: "boolean", default: false },
        start: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
    }));
  } catch (e) {
    throw new UsageError((e as Error).message.split("\n")[0]);
  }
  const { mode, ...rest } = values;
  if (mode !== undefined && mode !== "immediate" && mode !== "scheduled") throw new UsageError(`--mode must be immediate or scheduled, not "${mode}"`);
  if (!rest.help && [mode !== undefined, rest.login, rest.check, rest.inspect].filter(Boolean).length !== 1) {
    throw new UsageError("choose one of --mode immediate|scheduled, --login, --check or --inspect");
  }
  if (rest.start && !rest.inspect) throw new UsageError("--start goes with --inspect");
  return { ...rest, ...(mode ? { mode } : {}) };
}
