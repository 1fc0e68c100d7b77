// Callback data the bot's buttons carry, parsed strictly: anything else is garbage to refuse.

import { CALLBACK } from "../ui.ts";

export type CallbackAction =
  | { kind: "select"; transportId: number }
  | { kind: "confirm"; transportId: number }
  | { kind: "cancel" }
  | { kind: "myBookings" }
  | { kind: "test" }
  | { kind: "menu" };

const ID = /^[1-9]\d{0,14}$/;

export function parseCallback(data: string | undefined): CallbackAction | null {
  if (!data || data.length > 64) return null;
  const idAfter = (prefix: string): number | null => {
    const rest = data.slice(prefix.length);
    return ID.test(rest) ? Number(rest) : null;
  };
  if (data.startsWith(CALLBACK.select)) {
    const id = idAfter(CALLBACK.select);
    return id === null ? null : { kind: "select", transportId: id };
  }
  if (data.startsWith(CALLBACK.confirm)) {
    const id = idAfter(CALLBACK.confirm);
    return id === null ? null : { kind: "confirm", transportId: id };
  }
  switch (data) {
    case CALLBACK.cancel:
      return { kind: "cancel" };
    case CALLBACK.myBookings:
      return { kind: "myBookings" };
    case CALLBACK.test:
      return { kind: "test" };
    case CALLBACK.menu:
      return { kind: "menu" };
  }
  return null;
}
