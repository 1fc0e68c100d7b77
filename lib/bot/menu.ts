// Inline keyboards of the bot's messages, as plain Bot API reply_markup objects.

import { BUTTON, CALLBACK, TEXT } from "../ui.ts";
import type { TransportRow } from "../db.ts";

export interface Button {
  text: string;
  callback_data: string;
}
export interface Keyboard {
  inline_keyboard: Button[][];
}

export type MenuState =
  | { kind: "open"; transports: TransportRow[] }
  | { kind: "closed"; opensAt: string };

export interface Menu {
  text: string;
  keyboard: Keyboard;
}

/** The /start menu: one button per transport with free seats while open, then the fixed buttons. */
export function mainMenu(state: MenuState, testModeEnabled: boolean): Menu {
  const rows: Button[][] = [];
  let text: string;
  if (state.kind === "open") {
    const free = state.transports.filter((t) => t.booked < t.seats);
    for (const t of free) rows.push([{ text: TEXT.transportButton(t), callback_data: CALLBACK.select + t.id }]);
    text = free.length ? TEXT.menuOpen : TEXT.menuNothingLeft;
  } else {
    text = TEXT.menuClosed(state.opensAt);
  }
  rows.push([{ text: BUTTON.myBookings, callback_data: CALLBACK.myBookings }]);
  if (testModeEnabled) rows.push([{ text: BUTTON.test, callback_data: CALLBACK.test }]);
  return { text, keyboard: { inline_keyboard: rows } };
}

export function confirmKeyboard(transportId: number): Keyboard {
  return {
    inline_keyboard: [
      [
        { text: BUTTON.confirm, callback_data: CALLBACK.confirm + transportId },
        { text: BUTTON.cancel, callback_data: CALLBACK.cancel },
      ],
    ],
  };
}

export function backKeyboard(): Keyboard {
  return { inline_keyboard: [[{ text: BUTTON.back, callback_data: CALLBACK.menu }]] };
}
