// One flow, step by step, for a bot written with any Telegram library against the sandbox over
// real HTTP: getMe, /start, an inline keyboard, a press answered, an edit seen, block and unblock
// heard as my_chat_member, and a message sent while the bot was stopped caught up after its restart.
// Each step is its own test so a report says which steps a library passes. `start` is called once
// per bot instance (twice: before and after the restart).
//
// The bot under test must: answer /start with "<b>Меню</b>" (parse_mode HTML) and one button
// "🧪 Тест" (callback data "test"); answer that button's callback with "Тест запущен" and edit the
// message to "Тест идёт" with one button "❌ Отмена" ("cancel"); record every my_chat_member
// update as "old->new" statuses.

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startSandbox, type Sandbox } from "../../sandbox/index.ts";
import { ControlUser, eventually, type ChatMessage } from "./control-user.ts";

export interface BotUnderTest {
  /** What the library's own getMe returned. */
  me: { id: number; is_bot: boolean; username?: string };
  /** my_chat_member updates as the library delivered them, e.g. "member->kicked". */
  chatMemberChanges: string[];
  stop(): Promise<void>;
}

export function conformanceFlow(library: string, token: string, start: (sb: Sandbox) => Promise<BotUnderTest>): void {
  describe(`${library} against the sandbox`, () => {
    let sb: Sandbox;
    let bot: BotUnderTest;
    let user: ControlUser;
    let menu: ChatMessage;

    beforeAll(async () => {
      sb = await startSandbox({ botApiPort: 0, mtprotoPort: 0 });
      bot = await start(sb);
      user = await ControlUser.create(sb.controlUrl, String(bot.me.id), "Мария");
    });
    afterAll(async () => {
      await bot?.stop();
      await sb?.stop();
    });

    test("getMe", () => {
      expect(bot.me).toMatchObject({ id: Number(token.split(":")[0]), is_bot: true });
      expect(sb.world.botByUsername(bot.me.username!)?.id).toBe(bot.me.id);
    });

    test("a user's /start reaches the bot, which replies with an inline keyboard in HTML", async () => {
      await user.send("/start");
      menu = await user.waitFor((m) => m.text === "Меню");
      expect(menu.buttons).toEqual([{ text: "🧪 Тест", callback_data: "test" }]);
      expect(sb.world.getMessage(user.id, bot.me.id, menu.id)?.entities).toEqual([{ type: "bold", offset: 0, length: 4 }]);
    });

    test("the user presses the button and gets the bot's callback answer", async () => {
      const { answer } = await user.press("🧪 Тест");
      expect(answer).toMatchObject({ text: "Тест запущен" });
    });

    test("the user sees the bot's edit of that message", async () => {
      const edited = await user.waitFor((m) => m.id === menu.id && m.text === "Тест идёт");
      expect(edited.edit_date).toBeNumber();
      expect(edited.buttons).toEqual([{ text: "❌ Отмена", callback_data: "cancel" }]);
    });

    test("blocking the bot reaches it as my_chat_member kicked", async () => {
      await user.block(true);
      await eventually("my_chat_member kicked", () => bot.chatMemberChanges.length >= 1);
      expect(bot.chatMemberChanges).toEqual(["member->kicked"]);
    });

    test("unblocking reaches it as my_chat_member member", async () => {
      await user.block(false);
      await eventually("my_chat_member member", () => bot.chatMemberChanges.length >= 2);
      expect(bot.chatMemberChanges).toEqual(["member->kicked", "kicked->member"]);
    });

    test("a message sent while the bot was stopped reaches it after a restart", async () => {
      await bot.stop();
      await user.send("/start");
      bot = await start(sb);
      const again = await user.waitFor((m) => m.text === "Меню" && m.id > menu.id);
      // Answered once: the first menu was edited, so this is the only "Меню" in the chat.
      expect((await user.history()).filter((m) => m.from_bot && m.text === "Меню")).toEqual([again]);
    });
  });
}
