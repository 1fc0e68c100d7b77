// A config.yaml for `bun client.ts` pointed at a local sandbox: no Telegram credentials, the
// sandbox account's phone, no notifications (nothing to ring in a demo or a benchmark).

import { writeFileSync } from "node:fs";
import { join } from "node:path";

export interface SandboxClientConfig {
  sandboxUrl: string;
  botUsername: string;
  phone: string;
  cities: string[][];
  /** "HH:MM:SS" for --mode scheduled */
  targetTime?: string;
  timezone?: string;
}

export function writeClientConfig(dir: string, c: SandboxClientConfig): string {
  const q = (s: string) => JSON.stringify(s);
  const lines = [
    "telegram:",
    `  phone: ${q(c.phone)}`,
    "bot:",
    `  username: ${q(c.botUsername)}`,
    "targets:",
    ...c.cities.flatMap((cities, i) => [`  - cities: [${cities.map(q).join(", ")}]`, `    priority: ${i + 1}`]),
    "booking:",
    `  target_time: ${q(c.targetTime ?? "11:30:00")}`,
    ...(c.timezone ? [`  timezone: ${q(c.timezone)}`] : []),
    "performance:",
    "  polling_interval_ms: 30",
    "  max_retries: 3",
    "  connection_timeout: 10",
    "notifications:",
    "  telegram_notify: false",
    "  sound_alert: false",
    "session:",
    `  path: ${q(join(dir, "sessions", "client.session"))}`,
    "sandbox:",
    `  url: ${q(c.sandboxUrl)}`,
    "",
  ];
  const path = join(dir, "config.yaml");
  writeFileSync(path, lines.join("\n"));
  return path;
}
