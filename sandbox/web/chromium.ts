// Debian's chromium, headless, for the web page's browser tests and screenshots (puppeteer-core).
// The flags keep it from dialling out: on this machine such connections are refused and stall it.

import { existsSync } from "node:fs";
import { join } from "node:path";
import puppeteer, { type Browser } from "puppeteer-core";

/** The chromium binary, or undefined when none is installed (apt-get install -y chromium). */
export const CHROMIUM: string | undefined =
  ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p)) ?? Bun.which("chromium") ?? undefined;

/** A headless chromium with a fresh profile in `dir`. */
export function launchChromium(dir: string): Promise<Browser> {
  if (!CHROMIUM) throw new Error("no chromium binary: install it with apt-get install -y chromium");
  return puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      `--user-data-dir=${join(dir, "chromium-profile")}`,
    ],
  });
}
