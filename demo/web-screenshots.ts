// bun demo/web-screenshots.ts [dir]: the README's pictures of the web page (default dir: docs/).
// A small opening on the demo's stack (sandbox + `bun bot.ts`): Анна books by clicking in headless
// chromium while eight simulated people race her for four seats; then the chat and the watch view.

import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { ElementHandle, Page } from "puppeteer-core";
import { compete, makeCrowd } from "./crowd.ts";
import { BOT_USERNAME, ROOT, startStack } from "./stack.ts";
import { RECOGNISE, TEXT } from "../lib/ui.ts";
import { launchBrowser } from "../sandbox/web/browser.ts";

const OUT = resolve(process.argv[2] ?? join(ROOT, "docs"));
const PHONE = "+79990000001";
const OPEN_AHEAD_MS = 6_000;
const SEATS = [
  { from_city: "Челябинск", to_city: "Екатеринбург", departure: "07:30", seats: 2 },
  { from_city: "Челябинск", to_city: "Курган", departure: "11:45", seats: 1 },
  { from_city: "Челябинск", to_city: "Тюмень", departure: "13:10", seats: 1 },
];

const at = Math.ceil((Date.now() + OPEN_AHEAD_MS) / 1000) * 1000;
const opensAt = new Date(at).toTimeString().slice(0, 8);
const stack = await startStack({ env: { BOOKING_TIME: opensAt }, transports: SEATS, showBotLine: () => false });
const dir = mkdtempSync(join(tmpdir(), "aprel-shots-"));
const browser = await launchBrowser(dir);
try {
  const { sb } = stack;
  sb.world.userForPhone(PHONE, "Анна");
  const page = await browser.newPage();
  page.setDefaultTimeout(20_000);
  await page.setViewport({ width: 420, height: 900 });
  await page.goto(`${sb.botApiUrl}/?user=${PHONE}`);
  const crowd = makeCrowd(sb.world, BOT_USERNAME, 8);
  await Promise.all(
    crowd.map(async (p) => {
      const r = p.human.waitFor((m) => m.text.length > 0);
      p.human.send("/start");
      await r;
    }),
  );
  const racing = Promise.all(crowd.map((p) => compete(p, OPEN_AHEAD_MS + 10_000)));

  await click(page, "button.command", "/start");
  await shown(page, ".msg.from-bot .text", RECOGNISE.notOpen);
  console.log(`booking opens at ${opensAt}; Анна waits in the browser`);
  await shown(page, ".msg.from-bot .text", RECOGNISE.announcement);
  await Bun.sleep(700); // a person's reaction
  await click(page, "button.command", "/start");
  await shown(page, ".msg.from-bot .text", TEXT.menuOpen);
  await Bun.sleep(400);
  await click(page, "button.inline-button", "Курган");
  await shown(page, "button.inline-button", "Подтвердить");
  await Bun.sleep(300);
  await click(page, "button.inline-button", "Подтвердить");
  await page.waitForFunction((a, b) => [...document.querySelectorAll(".msg.from-bot .text")].some((n) => n.textContent!.includes(a) || n.textContent!.includes(b)), {}, RECOGNISE.booked, RECOGNISE.soldOut);
  await racing;
  mkdirSync(OUT, { recursive: true });
  await page.screenshot({ path: join(OUT, "web-chat.png") as `${string}.png` });

  await page.setViewport({ width: 1200, height: 900 });
  await page.goto(`${sb.botApiUrl}/?watch=${BOT_USERNAME}`);
  await page.waitForSelector(".timeline tbody tr");
  await page.screenshot({ path: join(OUT, "web-watch.png") as `${string}.png`, fullPage: true });
  console.log(`screenshots in ${OUT}: web-chat.png, web-watch.png`);
  for (const p of crowd) p.human.close();
} finally {
  await browser.close();
  await stack.stop();
  rmSync(dir, { recursive: true, force: true });
}

async function shown(page: Page, selector: string, text: string): Promise<void> {
  await page.waitForFunction((sel, t) => [...document.querySelectorAll(sel)].some((n) => n.textContent!.includes(t)), {}, selector, text);
}

async function click(page: Page, selector: string, text: string): Promise<void> {
  await shown(page, selector, text);
  const target = await page.evaluateHandle((sel, t) => [...document.querySelectorAll<HTMLElement>(sel)].findLast((n) => n.textContent!.includes(t))!, selector, text);
  await (target as ElementHandle<HTMLElement>).click();
}
