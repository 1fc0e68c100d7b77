// The bot's buttons: typed callback data (gramio's CallbackData packs and unpacks it) and the
// inline keyboards of its messages.

import { CallbackData, InlineKeyboard } from "gramio";
import type { TransportRow } from "../db.ts";
import { BUTTON, TEXT } from "../ui.ts";

export const ACTION = {
  select: new CallbackData("select").number("id"),
  confirm: new CallbackData("confirm").number("id"),
  cancel: new CallbackData("cancel"),
  myBookings: new CallbackData("my"),
  test: new CallbackData("test"),
  menu: new CallbackData("menu"),
};

export type Action =
  | { kind: "select" | "confirm"; transportId: number }
  | { kind: "cancel" | "myBookings" | "test" | "menu" };

/** The action a button's data asks for; null for anything the bot did not put on a button. */
export function parseAction(data: string | undefined): Action | null {
  if (!data || data.length > 64) return null;
  for (const kind of ["select", "confirm"] as const) {
    if (!ACTION[kind].filter(data)) continue;
    const r = ACTION[kind].safeUnpack(data);
    const id = r.success ? r.data.id : NaN;
    // pack() writes ids in base 36: anything that does not round-trip is forged or garbled.
    return Number.isSafeInteger(id) && id > 0 && ACTION[kind].pack({ id }) === data ? { kind, transportId: id } : null;
  }
  for (const kind of ["cancel", "myBookings", "test", "menu"] as const) {
    if (data === ACTION[kind].pack()) return { kind };
  }
  return null;
}

export type MenuState = { kind: "open"; transports: TransportRow[] } | { kind: "closed"; opensAt: string };

/** The /start menu: one button per transport with free seats while open, then the fixed buttons. */
export function mainMenu(state: MenuState, testModeEnabled: boolean): { text: string; keyboard: InlineKeyboard } {
  const keyboard = new InlineKeyboard();
  let text = TEXT.menuClosed(state.kind === "closed" ? state.opensAt : "");
  if (state.kind === "open") {
    const free = state.transports.filter((t) => t.booked < t.seats);
    for (const t of free) keyboard.text(TEXT.transportButton(t), ACTION.select.pack({ id: t.id })).row();
    text = free.length ? TEXT.menuOpen : TEXT.menuNothingLeft;
  }
  keyboard.text(BUTTON.myBookings, ACTION.myBookings.pack()).row();
  if (testModeEnabled) keyboard.text(BUTTON.test, ACTION.test.pack());
  return { text, keyboard };
}

export const confirmKeyboard = (transportId: number) =>
  new InlineKeyboard().text(BUTTON.confirm, ACTION.confirm.pack({ id: transportId })).text(BUTTON.cancel, ACTION.cancel.pack());

export const backKeyboard = () => new InlineKeyboard().text(BUTTON.back, ACTION.menu.pack());
