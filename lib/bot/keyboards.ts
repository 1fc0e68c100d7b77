// The bot's buttons: typed callback data (gramio's CallbackData), each message's rows of buttons,
// and how BOT_UI shows them: inline, or a reply keyboard whose labels come back as text messages.

import { CallbackData, InlineKeyboard, Keyboard } from "gramio";
import type { TransportRow } from "../db.ts";
import { BUTTON, TEXT } from "../ui.ts";
import type { BotUi } from "./config.ts";

export const ACTION = {
  select: new CallbackData("select").number("id"),
  confirm: new CallbackData("confirm").number("id"),
  cancel: new CallbackData("cancel"),
  myBookings: new CallbackData("my"),
  test: new CallbackData("test"),
  menu: new CallbackData("menu"),
};

export type Action = { kind: "select" | "confirm"; transportId: number } | { kind: "cancel" | "myBookings" | "test" | "menu" };
export type Buttons = { text: string; data: string }[][];

export function parseAction(data: string | undefined): Action | null {
  if (!data || data.length > 64) return null;
  for (const kind of ["select", "confirm"] as const) {
    if (!ACTION[kind].filter(data)) continue;
    const r = ACTION[kind].safeUnpack(data);
    const id = r.success ? r.data.id : NaN;
    // pack() writes ids in base 36: anything that does not round-trip is forged or garbled.
    return Number.isSafeInteger(id) && id > 0 && ACTION[kind].pack({ id }) === data ? { kind, transportId: id } : null;
  }
  const kind = (["cancel", "myBookings", "test", "menu"] as const).find((k) => data === ACTION[k].pack());
  return kind ? { kind } : null;
}

export type MenuState = { kind: "open"; transports: TransportRow[] } | { kind: "closed"; opensAt: string };

export function mainMenu(state: MenuState, testModeEnabled: boolean): { text: string; buttons: Buttons } {
  const free = state.kind === "open" ? state.transports.filter((t) => t.booked < t.seats) : [];
  const buttons: Buttons = free.map((t) => [{ text: TEXT.transportButton(t), data: ACTION.select.pack({ id: t.id }) }]);
  buttons.push([{ text: BUTTON.myBookings, data: ACTION.myBookings.pack() }]);
  if (testModeEnabled) buttons.push([{ text: BUTTON.test, data: ACTION.test.pack() }]);
  const text = state.kind === "closed" ? TEXT.menuClosed(state.opensAt) : free.length ? TEXT.menuOpen : TEXT.menuNothingLeft;
  return { text, buttons };
}

export const confirmButtons = (transportId: number): Buttons => [
  [{ text: BUTTON.confirm, data: ACTION.confirm.pack({ id: transportId }) }, { text: BUTTON.cancel, data: ACTION.cancel.pack() }],
];

export const backButtons = (): Buttons => [[{ text: BUTTON.back, data: ACTION.menu.pack() }]];

export function markup(rows: Buttons, ui: BotUi): InlineKeyboard | Keyboard {
  const k = ui === "reply" ? new Keyboard() : new InlineKeyboard();
  for (const row of rows) k.add(...row.map((b) => (ui === "reply" ? Keyboard.text(b.text) : InlineKeyboard.text(b.text, b.data)))).row();
  return k;
}

export function actionOfLabel(text: string, transports: TransportRow[], selected: number | undefined): Action | null {
  const fixed: Record<string, Action> = { [BUTTON.cancel]: { kind: "cancel" }, [BUTTON.myBookings]: { kind: "myBookings" }, [BUTTON.test]: { kind: "test" }, [BUTTON.back]: { kind: "menu" } };
  if (text === BUTTON.confirm) return selected === undefined ? null : { kind: "confirm", transportId: selected };
  // The label ends with the seats left, which may have changed since the keyboard was sent.
  const t = transports.find((x) => text.startsWith(TEXT.transportButton(x).replace(/\(мест: \d+\)$/, "")));
  return fixed[text] ?? (t ? { kind: "select", transportId: t.id } : null);
}
