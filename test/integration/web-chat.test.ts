// The sandbox's web chat in a real browser (Debian's chromium, headless, driven by puppeteer-core)
// against `bun bot.ts` as a child process: a person's whole booking by clicking, live updates, a
// bot's `<script>` shown as text, blocking from the menu, keyboards, edits, callback answers and
// the watch view's timeline. WEB_TEST_BROWSER=firefox runs the same in firefox-esr.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, ElementHandle, Page } from "puppeteer-core";
import { BUTTON, RECOGNISE, TEXT } from "../../lib/ui.ts";
import { SANDBOX_BOT_TOKEN, SANDBOX_BOT_USERNAME } from "../../sandbox/defaults.ts";
import { startSandbox, type Sandbox } from "../../sandbox/index.ts";
import { BROWSER_NAME, BROWSER_PATH, INSTALL_HINT, launchBrowser } from "../../sandbox/web/browser.ts";

const ROOT = join(import.meta.dir, "..", "..");
const PHONE = "+79990000001";
/** Variables of ours that must not leak from the shell into the bot under test. */
const OWN_VARS = /^(BOT_TOKEN|ADMIN_IDS|BOOKING_TIME|TEST_MODE_ENABLED|TEST_SMS_DELAY_MS|DB_PATH|BOT_API_URL|LOG_DIR|LOG_LEVEL|TRANSPORTS_FILE|SANDBOX_\w+)$/;

if (!BROWSER_PATH) console.warn(`web-chat tests skipped: no ${BROWSER_NAME} binary (install it: ${INSTALL_HINT})`);

describe.skipIf(!BROWSER_PATH)(`the sandbox's web chat in ${BROWSER_NAME}`, () => {
  let dir: string;
  let sb: Sandbox;
  let bot: Bun.Subprocess;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "aprel-web-"));
    sb = await startSandbox({ botApiPort: 0, mtprotoPort: 0, bots: [{ token: SANDBOX_BOT_TOKEN, username: SANDBOX_BOT_USERNAME }] });
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !OWN_VARS.test(k)) env[k] = v;
    bot = Bun.spawn(["bun", join(ROOT, "bot.ts")], {
      cwd: dir,
      env: {
        ...env,
        BOT_TOKEN: SANDBOX_BOT_TOKEN,
        BOT_API_URL: sb.botApiUrl,
        DB_PATH: join(dir, "bot.db"),
        LOG_DIR: join(dir, "logs"),
        TEST_SMS_DELAY_MS: "300",
        BOOKING_TIME: "23:59:59",
        // Telegram's 1 message/s per chat (the default) is not what this file is about: unpaced, as
        // in the demo, a click's answer comes at once instead of up to a second later.
        CHAT_RATE_PER_S: "1000",
      },
      stdin: "ignore",
      stdout: "ignore",
      stderr: "inherit",
    });
    browser = await launchBrowser(dir);
    page = await browser.newPage();
    page.setDefaultTimeout(15_000); // fail with what was awaited, before the test times out
    await page.setViewport({ width: 400, height: 820 }); // a phone
  }, 30_000); // a browser and a bot process start here: slow on a busy machine

  afterAll(async () => {
    await browser?.close();
    bot?.kill("SIGTERM");
    await bot?.exited;
    await sb?.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 15_000);

  /** Waits until a bot message on the page contains `text`; returns its text. */
  const botSays = (text: string) => shown(".msg.from-bot .text", text);

  /** Waits for the newest element matching `selector` whose text contains `text`; returns its text. */
  async function shown(selector: string, text: string): Promise<string> {
    const handle = await page.waitForFunction(
      (sel, t) => [...document.querySelectorAll(sel)].findLast((n) => n.textContent!.includes(t))?.textContent,
      {},
      selector,
      text,
    );
    return (await handle.jsonValue()) as string;
  }

  /** Clicks, as a mouse would, the newest element matching `selector` whose text contains `text`. */
  async function click(selector: string, text: string): Promise<void> {
    await shown(selector, text);
    const target = await page.evaluateHandle(
      (sel, t) => [...document.querySelectorAll<HTMLElement>(sel)].findLast((n) => n.textContent!.includes(t))!,
      selector,
      text,
    );
    await (target as ElementHandle<HTMLElement>).click();
  }

  /** Presses the newest inline button whose label contains `label`. */
  const press = (label: string) => click("button.inline-button", label);

  test("a person books by clicking: /start, 🧪 Тест, the announcement arrives live, through to Забронировано", async () => {
    await page.goto(`${sb.botApiUrl}/?user=${PHONE}`); // "+" as typed: the page keeps it
    await page.waitForFunction(() => document.querySelector(".title-sub")?.textContent?.includes("+79990000001"));
    expect(sb.world.userByPhone(PHONE)).toBeDefined(); // created on first use

    await page.type(".composer-input", "/start");
    await page.keyboard.press("Enter");
    await botSays(RECOGNISE.notOpen);
    await page.evaluate(() => ((window as unknown as { loadedOnce: boolean }).loadedOnce = true));

    await press(BUTTON.test);
    await botSays("🧪 Тест: созданы");
    expect(await botSays(RECOGNISE.announcement)).toBe(TEXT.testAnnouncement);

    await page.click("button.command"); // the one-click /start
    await botSays(TEXT.menuOpen);
    await press("Челябинск");
    await botSays(TEXT.confirmPromptHead);
    await press(BUTTON.confirm);
    expect(await botSays(RECOGNISE.booked)).toContain("Челябинск →"); // the transport pressed

    // all of it arrived over the event stream: the page never reloaded
    expect(await page.evaluate(() => (window as unknown as { loadedOnce?: boolean }).loadedOnce)).toBe(true);
    const bubbles = await page.$$eval(".msg .text", (ns) => ns.map((n) => n.textContent));
    expect(bubbles.filter((t) => t === "/start")).toHaveLength(2);
  });

  test("a bot's <script> and markup are shown as text, and so is the person's own", async () => {
    const evil = `<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2"><b>bold</b>`;
    const user = sb.world.userByPhone(PHONE)!;
    const res = await fetch(`${sb.botApiUrl}/bot${SANDBOX_BOT_TOKEN}/sendMessage`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        chat_id: user.id,
        text: evil, // no parse_mode: a bot's text, not markup (Telegram refuses these tags as HTML)
        reply_markup: { inline_keyboard: [[{ text: "evil", url: "javascript:window.pwned = 4" }, { text: "docs", url: "https://core.telegram.org/bots/api" }]] },
      }),
    });
    expect(res.status).toBe(200);
    expect(await botSays("<script>")).toBe(evil);
    // URL buttons: a web link opens in a new tab; a javascript: one is no link at all
    expect(await page.$$eval(".inline-keyboard a", (as) => as.map((a) => [a.getAttribute("href"), a.getAttribute("target")]))).toEqual([
      ["https://core.telegram.org/bots/api", "_blank"],
    ]);
    await click(".inline-keyboard span", "evil");

    await page.type(".composer-input", "<i>mine</i><script>window.pwned = 3</script>");
    await page.keyboard.press("Enter");
    await page.waitForFunction(() => [...document.querySelectorAll(".msg.from-me .text")].some((n) => n.textContent === "<i>mine</i><script>window.pwned = 3</script>"));

    expect(await page.$$(".messages script, .messages img, .messages b, .messages i")).toHaveLength(0);
    expect(await page.evaluate(() => (window as unknown as { pwned?: number }).pwned)).toBeUndefined();
  });

  test("blocking the bot from the menu makes its sends fail with 403; unblocking lets them through", async () => {
    const user = sb.world.userByPhone(PHONE)!;
    const sendAsBot = () =>
      fetch(`${sb.botApiUrl}/bot${SANDBOX_BOT_TOKEN}/sendMessage`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ chat_id: user.id, text: "are you there?" }),
      });
    await page.click(".bar button.icon-button");
    await click(".menu-item", "Block bot");
    await page.waitForSelector(".banner:not([hidden])");
    expect((await sendAsBot()).status).toBe(403);

    await page.click(".bar button.icon-button");
    await click(".menu-item", "Unblock bot");
    await page.waitForSelector(".banner", { hidden: true });
    expect((await sendAsBot()).status).toBe(200);
    await botSays("are you there?");
  });

  test("another bot's keyboards, edits, commands and callback answers look as in Telegram", async () => {
    const token = "7000000002:web-test-bot";
    const call = async (method: string, params: Record<string, unknown> = {}) => {
      const res = await fetch(`${sb.botApiUrl}/bot${token}/${method}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(params),
      });
      const body = (await res.json()) as { ok: boolean; result: any; description?: string };
      if (!body.ok) throw new Error(`${method}: ${body.description}`);
      return body.result;
    };
    const me = await call("getMe");
    await call("setMyCommands", { commands: [{ command: "help", description: "What this bot does" }] });
    await page.goto(`${sb.botApiUrl}/?user=${PHONE}&bot=${me.username}`);
    await click("button.command", "/help");
    const [hello] = await call("getUpdates", { timeout: 10 });
    expect(hello.message.text).toBe("/help");
    const chat_id = hello.message.chat.id;

    await call("sendMessage", { chat_id, text: "Pick one", reply_markup: { keyboard: [[{ text: "Red" }, { text: "Blue" }]] } });
    await click(".reply-keyboard button", "Blue");
    const [blue] = await call("getUpdates", { offset: hello.update_id + 1, timeout: 10 });
    expect(blue.message.text).toBe("Blue");

    const msg = await call("sendMessage", {
      chat_id,
      text: "Sure?",
      reply_markup: { inline_keyboard: [[{ text: "Tell me", callback_data: "toast" }, { text: "Warn me", callback_data: "alert" }]] },
    });
    await call("sendMessage", { chat_id, text: "Keyboard gone", reply_markup: { remove_keyboard: true } });
    await page.waitForSelector(".reply-keyboard", { hidden: true });

    // The page shows a callback answer as a toast, or as a dialog when the bot asks for an alert.
    let offset = blue.update_id + 1;
    const answerNextPress = async (answer: Record<string, unknown>) => {
      const [u] = await call("getUpdates", { offset, timeout: 10 });
      offset = u.update_id + 1;
      await call("answerCallbackQuery", { callback_query_id: u.callback_query.id, ...answer });
      return u.callback_query.data as string;
    };
    await press("Tell me");
    expect(await answerNextPress({ text: "<b>noted</b>" })).toBe("toast");
    expect(await shown(".toast:not([hidden])", "noted")).toBe("<b>noted</b>");
    await press("Warn me");
    expect(await answerNextPress({ text: "Careful!", show_alert: true })).toBe("alert");
    await shown("dialog.alert[open]", "Careful!");
    await page.click("dialog.alert button");
    await page.waitForSelector("dialog.alert[open]", { hidden: true });

    // An edit replaces the message in place and marks it edited; its keyboard goes with it.
    await call("editMessageText", { chat_id, message_id: msg.message_id, text: "Done" });
    const edited = `.msg[data-id="${msg.message_id}"]`;
    await shown(`${edited} .text`, "Done");
    expect(await page.$eval(edited, (n) => n.querySelector(".edited")?.textContent)).toBe("edited");
    expect(await page.$$(`${edited} .inline-button`)).toHaveLength(0);
    expect(await page.$$eval(".msg .text", (ns) => ns.filter((n) => n.textContent === "Sure?").length)).toBe(0);
  });

  test("the watch view shows the opening's timeline and every chat of the bot", async () => {
    await page.setViewport({ width: 1100, height: 760 });
    await page.goto(sb.botApiUrl); // the picker lists users and bots
    expect(await shown(".picker li a", PHONE)).toBe(`User ${sb.world.userByPhone(PHONE)!.id} (${PHONE})`);
    await Promise.all([page.waitForNavigation(), click(`.picker a[href="/?watch=${SANDBOX_BOT_USERNAME}"]`, "watch")]);
    expect(page.url()).toBe(`${sb.botApiUrl}/?watch=${SANDBOX_BOT_USERNAME}`);
    const row = await page.waitForFunction(
      (t) => [...document.querySelectorAll(".timeline tbody tr")].find((r) => r.textContent!.includes(t))?.textContent,
      { timeout: 15_000 },
      "+79990000001",
    );
    const text = (await row.jsonValue()) as string;
    expect(text).toContain(RECOGNISE.booked); // who got which seat
    expect(text).toContain(BUTTON.confirm); // what they pressed
    expect(text).toMatch(/^\S.*\+\d+ ms/); // when the announcement reached them
    expect(await page.$$eval(".pane", (ps) => ps.length)).toBe(1);
    expect(await page.$eval(".pane", (p) => p.textContent)).toContain("are you there?");
  });
});
