import { expect, test } from "bun:test";
import { backoffMs, retry, RetryGaveUp } from "../../lib/retry.ts";

test("backoff doubles from the base up to the cap", () => {
  expect([1, 2, 3, 4, 10].map((a) => backoffMs(a, 100, 500))).toEqual([100, 200, 400, 500, 500]);
});

test("retries what the policy retries, then succeeds", async () => {
  const waits: number[] = [];
  const result = await retry(
    async (attempt) => {
      if (attempt < 3) throw new Error(`try ${attempt}`);
      return "done";
    },
    { delayFor: (_e, attempt) => attempt, onRetry: (_e, _a, ms) => waits.push(ms) },
  );
  expect(result).toBe("done");
  expect(waits).toEqual([1, 2]);
});

test("errors the policy does not retry are thrown as they are", async () => {
  const fatal = new Error("400 Bad Request");
  await expect(retry(async () => Promise.reject(fatal), { delayFor: () => undefined })).rejects.toBe(fatal);
});

test("gives up after maxAttempts, and before a wait that ends past the deadline", async () => {
  let calls = 0;
  const fail = async () => {
    calls++;
    throw new Error("503");
  };
  const e1 = await retry(fail, { delayFor: () => 1, maxAttempts: 3 }).catch((e) => e);
  expect(e1).toBeInstanceOf(RetryGaveUp);
  expect([e1.why, e1.attempts, calls]).toEqual(["attempts", 3, 3]);
  let t = 0;
  const e2 = await retry(fail, { delayFor: () => 50, deadline: 120, now: () => (t += 10) }).catch((e) => e);
  expect(e2.why).toBe("deadline");
  expect(e2.message).toContain("503");
});
