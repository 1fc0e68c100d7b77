// The printed stats block and the booking_attempt log details: the seed's numbers add up
// (47 + 38 + 32 = 117, ending at the confirm press); the trip to the result is shown apart.
import { expect, test } from "bun:test";
import type { BookingOutcome } from "../../lib/client/booker.ts";
import { attemptDetails, attemptReport, notificationText, resultOf, statsBlock } from "../../lib/client/report.ts";

const SEED = { smsToStart: 47, startToSelect: 38, selectToConfirm: 32, confirmToResult: 6, total: 117, toResult: 123 };

function outcome(): BookingOutcome {
  return {
    ok: true,
    result: { outcome: "booked", text: "✅ Забронировано", transport: "Челябинск", attempts: 1, retries: 0 } as BookingOutcome["result"],
    origin: "announcement",
    stats: SEED,
    reactions: [],
    notes: [],
    requests: 3,
    historyPolls: 0,
    historyHits: 0,
  };
}

test("the block is the seed's, its total the sum of the stages", () => {
  expect(statsBlock(SEED)).toBe(["SMS → /start:     47ms", "/start → выбор:   38ms", "Выбор → подтверд: 32ms", "━".repeat(20), "Общее время:     117ms"].join("\n"));
});

test("a slow stage keeps a space after its label, and the column where it fits", () => {
  const block = statsBlock({ smsToStart: 1234, startToSelect: 5, selectToConfirm: 113, total: 1352 });
  expect(block.split("\n")).toEqual(["SMS → /start:   1234ms", "/start → выбор:    5ms", "Выбор → подтверд: 113ms", "━".repeat(20), "Общее время:    1352ms"]);
});

test("the confirm → result trip is a separate English line right below the block", () => {
  const lines = attemptReport(outcome()).split("\n");
  expect(lines[4]).toBe("Общее время:     117ms");
  expect(lines[5]).toBe("result received 6 ms after the confirm press; 123 ms from the start");
});

test("the log's total_time_ms is the seed's total; result_ms and confirm_to_result_ms sit alongside", () => {
  expect(attemptDetails(outcome(), "immediate")).toMatchObject({ total_time_ms: 117, result_ms: 123, confirm_to_result_ms: 6, sms_to_start_ms: 47 });
});

test("a failed run: only the stages that happened, no total, what failed and while waiting for what", () => {
  const failed: BookingOutcome = {
    ...outcome(),
    ok: false,
    result: undefined,
    failure: "no reply from the bot in time; gave up after 3 retries",
    stage: "after pressing the transport, while waiting for the confirmation prompt",
    stats: { smsToStart: 12, startToSelect: 20 },
  };
  const report = attemptReport(failed);
  expect(report.split("\n").slice(0, 2)).toEqual(["SMS → /start:     12ms", "/start → выбор:   20ms"]);
  expect(report).not.toContain("Общее время");
  expect(report).not.toContain("result received");
  expect(resultOf(failed)).toBe(
    "result: not booked: no reply from the bot in time; gave up after 3 retries (after pressing the transport, while waiting for the confirmation prompt)",
  );
  expect(attemptDetails(failed, "immediate")).toMatchObject({ success: false, total_time_ms: undefined, result_ms: undefined, failed_stage: failed.stage });
  expect(notificationText(failed)).not.toContain("Общее время");
});
