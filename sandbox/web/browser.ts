// A headless browser for the web page's tests and screenshots, driven by puppeteer-core: Debian's
// chromium by default, firefox-esr with WEB_TEST_BROWSER=firefox (WebDriver BiDi; slower to start).
// Chromium's flags keep it from dialling out: on this machine such connections are refused and stall it.

import { existsSync } from "node:fs";
import { join } from "node:path";
import puppeteer, { type Browser } from "puppeteer-core";

const FIREFOX = process.env.WEB_TEST_BROWSER === "firefox";
const CANDIDATES = FIREFOX ? ["/usr/bin/firefox-esr", "/usr/bin/firefox"] : ["/usr/bin/chromium", "/usr/bin/chromium-browser"];

export const BROWSER_NAME = FIREFOX ? "firefox" : "chromium";
/** The browser binary, or undefined when none is installed. */
export const BROWSER_PATH: string | undefined = CANDIDATES.find((p) => existsSync(p)) ?? Bun.which(BROWSER_NAME) ?? undefined;
export const INSTALL_HINT = `apt-get install -y ${FIREFOX ? "firefox-esr" : "chromium"}`;

/** The headless browser with a fresh profile under `dir`. */
export function launchBrowser(dir: string): Promise<Browser> {
  if (!BROWSER_PATH) throw new Error(`no ${BROWSER_NAME} binary: install it with ${INSTALL_HINT}`);
  const profile = join(dir, `${BROWSER_NAME}-profile`);
  if (FIREFOX) return puppeteer.launch({ browser: "firefox", executablePath: BROWSER_PATH, headless: true, userDataDir: profile });
  return puppeteer.launch({
    executablePath: BROWSER_PATH,
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      `--user-data-dir=${profile}`,
    ],
  });
}
