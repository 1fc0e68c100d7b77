// A user's update state as Telegram keeps it per account: every new, edited or deleted message
// moves the account's pts, and updates.getDifference hands a client what it missed since the pts
// it last saw (core.telegram.org/api/updates).

import type { Message } from "./world.ts";

export type LoggedUpdate =
  | { kind: "new" | "edit"; pts: number; ptsCount: 1; message: Message }
  | { kind: "delete"; pts: number; ptsCount: number; userMsgIds: number[] };

type Change = { kind: "new" | "edit"; message: Message } | { kind: "delete"; userMsgIds: number[] };

/** How many updates a log keeps; a client further behind gets the latest ones only. */
const MAX_KEPT = 10_000;

export class UpdateLog {
  /** The account's pts: that of the last update (1 before any). */
  pts = 1;
  private readonly entries: LoggedUpdate[] = [];

  record(change: Change): LoggedUpdate {
    const entry: LoggedUpdate =
      change.kind === "delete"
        ? { ...change, pts: (this.pts += change.userMsgIds.length), ptsCount: change.userMsgIds.length }
        : { ...change, pts: (this.pts += 1), ptsCount: 1 };
    this.entries.push(entry);
    if (this.entries.length > MAX_KEPT) this.entries.splice(0, this.entries.length - MAX_KEPT);
    return entry;
  }

  /** The updates after `pts`, oldest first. */
  since(pts: number): LoggedUpdate[] {
    let i = this.entries.length;
    while (i > 0 && this.entries[i - 1]!.pts > pts) i--;
    return this.entries.slice(i);
  }
}
