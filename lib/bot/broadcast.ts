// The daily announcement to every user, at the queue's lowest priority. Progress lives in the
// announcements table, so a restart resumes exactly the users still pending (the sender gave up on
// them or the bot stopped). A send is recorded only after Telegram answered it: after a hard crash
// the restart repeats the few that were in flight rather than losing them.

import type { BotDb } from "../db.ts";
import type { Logger } from "../log.ts";
import { TEXT } from "../ui.ts";
import type { Sender } from "./sender.ts";

export async function announce(db: BotDb, sender: Sender, log: Logger, day: string): Promise<void> {
  const users = db.pendingAnnouncements(day);
  if (!users.length) return;
  const started = performance.now();
  log.info("broadcast_start", { day, pending: users.length });
  const r = { sent: 0, blocked: 0, failed: 0, unsent: 0 };
  await Promise.all(
    users.map(async (id) => {
      const o = await sender.send(id, TEXT.announcement, { userId: id, priority: "broadcast", retryForMs: 3_600_000 });
      r[o]++;
      db.markAnnouncement(day, id, o === "unsent" ? "pending" : o, o === "sent" ? Date.now() : null);
    }),
  );
  const { unsent: remaining, ...counts } = r;
  log.info(remaining ? "broadcast_interrupted" : "broadcast_done", { day, ...counts, remaining, ms: Math.round(performance.now() - started) });
}
