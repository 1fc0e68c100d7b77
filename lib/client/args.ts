// Command-line arguments of client.ts.

export type Mode = "immediate" | "scheduled";

export interface ClientArgs {
  mode?: Mode;
  config: string;
  login: boolean;
  check: boolean;
  help: boolean;
}

export class UsageError extends Error {}

export const USAGE = `Usage: bun client.ts --mode immediate|scheduled [--config PATH]
       bun client.ts --login [--config PATH]
       bun client.ts --check [--config PATH]

  --mode immediate   connect, wait for the bot's announcement, book once, print the stats
  --mode scheduled   wait until 60 s before booking.target_time, prepare, and book at the opening
  --login            log in to Telegram and save the session (in the sandbox: fetch one)
  --check            check the config, session, connection, bot and clock, each with ✓/✗
  --config PATH      the config file (default: config.yaml)
  --help             this text

Exit codes: 0 booked (or check passed), 1 not booked (or a check failed), 2 bad config or
arguments, 130 interrupted (Ctrl+C).`;

export function parseArgs(argv: readonly string[]): ClientArgs {
  const a: ClientArgs = { config: "config.yaml", login: false, check: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.startsWith("--") && arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined || (inline === undefined && v.startsWith("--"))) throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case "--mode": {
        const m = value();
        if (m !== "immediate" && m !== "scheduled") throw new UsageError(`--mode must be immediate or scheduled, not "${m}"`);
        a.mode = m;
        break;
      }
      case "--config":
        a.config = value();
        break;
      case "--login":
        a.login = true;
        break;
      case "--check":
        a.check = true;
        break;
      case "--help":
      case "-h":
        a.help = true;
        break;
      default:
        throw new UsageError(`unknown argument "${arg}"`);
    }
  }
  if (!a.help && [a.mode !== undefined, a.login, a.check].filter(Boolean).length !== 1) {
    throw new UsageError("choose one of --mode immediate|scheduled, --login or --check");
  }
  return a;
}
