// Small third-party-like booking bots (gramio, in-process, over the sandbox's Bot API) in the
// four UI shapes the client meets: classic (1-column inline menu, confirmation edited in place),
// edit (2-per-row inline menu, confirmation as a new message), reply (reply-keyboard menu, inline
// confirmation, keyboard removed with the result), alert (inline menu; result and sold out said
// only in a callback alert). Their texts are not ours: the client needs its texts.* to fit them.

import { Bot, InlineKeyboard, Keyboard, RemoveKeyboard } from "gramio";
import type { Sandbox } from "../../sandbox/index.ts";
import { startBot, stopBot } from "./sandbox-bot.ts";

export type FixtureUi = "classic" | "edit" | "reply" | "alert";
export const FIXTURE_UIS: FixtureUi[] = ["classic", "edit", "reply", "alert"];

/** The texts.* a user would copy from these bots. */
export const FIXTURE_TEXTS = `texts:
  announcement: ["Запись на рейсы открыта"]
  confirm_button: "да, записать"
  booked: ["вы записаны"]
  sold_out: ["мест нет", "нет мест"]
  not_open: "откроется"
  already_booked: "уже записаны"
`;
export const FIXTURE_TEXTS_FLOW = {
  announcement: ["Запись на рейсы открыта"],
  confirmButton: ["да, записать"],
  booked: ["вы записаны"],
  soldOut: ["мест нет", "нет мест"],
  notOpen: ["откроется"],
  alreadyBooked: ["уже записаны"],
  soldOutButton: ["нет мест", "0 мест"],
};

export interface Route {
  name: string;
  seats: number;
  /** the menu still shows seats (a stale label): only the press reveals it is sold out */
  staleLabel?: boolean;
}

export interface FixtureBot {
  bot: Bot;
  open: boolean;
  routes: Route[];
  /** who booked what, in order */
  bookings: { userId: number; route: string }[];
  announce(userId: number): Promise<void>;
  stop(): Promise<void>;
}

export async function startFixtureBot(sb: Sandbox, token: string, ui: FixtureUi, routes: Route[]): Promise<FixtureBot> {
  const bot = new Bot(token, { api: { baseURL: `${sb.botApiUrl}/bot` } });
  const f: FixtureBot = {
    bot,
    open: false,
    routes,
    bookings: [],
    async announce(userId) {
      await bot.api.sendMessage({ chat_id: userId, text: "📣 Запись на рейсы открыта! Нажмите /start" });
    },
    stop: () => stopBot(sb, bot),
  };
  const label = (r: Route) => `${r.name} (${r.seats > 0 || r.staleLabel ? `${Math.max(r.seats, 1)} мест` : "нет мест"})`;
  const route = (name: string) => routes.find((r) => r.name === name);
  const menuText = "Выберите рейс:";
  const inlineMenu = () => {
    const k = new InlineKeyboard();
    routes.forEach((r, i) => {
      k.text(label(r), `pick:${r.name}`);
      if (ui !== "edit" || i % 2 === 1) k.row();
    });
    return k;
  };
  const confirmKeyboard = (r: Route) => new InlineKeyboard().text("✅ Да, записать", `ok:${r.name}`).text("Отмена", "cancel");
  /** Books; the words for the result. */
  const book = (userId: number, r: Route): string => {
    if (f.bookings.some((b) => b.userId === userId)) return "Вы уже записаны";
    if (r.seats <= 0) return "Увы, мест нет";
    r.seats--;
    f.bookings.push({ userId, route: r.name });
    return `Вы записаны: ${r.name}`;
  };

  bot.command("start", (ctx) => {
    if (!f.open) return ctx.send("Запись откроется в 12:00");
    if (ui === "reply") return ctx.send(menuText, { reply_markup: routes.reduce((k, r) => k.text(label(r)).row(), new Keyboard()) });
    return ctx.send(menuText, { reply_markup: inlineMenu() });
  });
  // reply UI: the pressed label arrives as text
  bot.on("message", (ctx, next) => {
    const r = routes.find((x) => ctx.text === label(x));
    if (ui !== "reply" || !r) return next();
    if (r.seats <= 0) return ctx.send("Увы, мест нет", { reply_markup: routes.reduce((k, x) => k.text(label(x)).row(), new Keyboard()) });
    return ctx.send(`Записать на ${r.name}?`, { reply_markup: confirmKeyboard(r) });
  });
  bot.on("callback_query", async (ctx) => {
    const data = ctx.data ?? "";
    const kind = data.slice(0, data.indexOf(":"));
    const name = data.slice(data.indexOf(":") + 1);
    const answer = (text = "", alert = false) => ctx.answer({ ...(text ? { text, show_alert: alert } : {}) });
    const r = name ? route(name) : undefined;
    const userId = ctx.from.id;
    if (!r) return answer();
    if (kind === "pick") {
      if (r.seats <= 0) {
        // alert UI: sold out only in the alert; the others also say it in the chat
        await answer("Мест нет", true);
        if (ui !== "alert") await ctx.send("Увы, мест нет");
        return;
      }
      await answer();
      if (ui === "classic" || ui === "alert") await ctx.editText(`Записать на ${r.name}?`, { reply_markup: confirmKeyboard(r) });
      else await ctx.send(`Записать на ${r.name}?`, { reply_markup: confirmKeyboard(r) });
      return;
    }
    const words = book(userId, r);
    if (ui === "alert") return answer(words, true);
    await answer();
    if (ui === "reply") await ctx.send(words, { reply_markup: new RemoveKeyboard() });
    else if (ui === "classic") await ctx.editText(words);
    else await ctx.send(words);
  });
  bot.onError(({ error }) => console.error(`fixture bot (${ui}):`, error));
  await startBot(bot);
  return f;
}
