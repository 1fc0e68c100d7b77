import { describe, expect, test } from "bun:test";
import {
  DEFAULT_FLOW_CONFIG,
  NOT_OPEN_MAX_DELAY_MS,
  chooseTransport,
  findConfirmButton,
  labelSaysSoldOut,
  initialState,
  stats,
  step,
  transportKey,
  type Button,
  type FlowConfig,
  type FlowAction,
  type FlowEvent,
  type FlowState,
  type MessageEvent,
} from "../../lib/flow.ts";
import { BUTTON, RECOGNISE, TEXT, type TransportView } from "../../lib/ui.ts";

/** Callback data of a bot like ours (the flow treats it as opaque). */
const CALLBACK = { select: "sel:", confirm: "ok:", cancel: "cancel", myBookings: "my", test: "test" } as const;

// --- fixtures: messages shaped like our bot's ---------------------------------------------------

interface T extends TransportView {
  id: number;
}
const CHEL: T = { id: 1, from_city: "Челябинск", to_city: "Екатеринбург", departure: "08:00", seats: 12, booked: 0 };
const CHEL2: T = { id: 2, from_city: "Челябинск", to_city: "Тюмень", departure: "09:30", seats: 5, booked: 0 };
const EKB: T = { id: 3, from_city: "Екатеринбург", to_city: "Пермь", departure: "10:00", seats: 20, booked: 0 };
const KRG: T = { id: 4, from_city: "Курган", to_city: "Омск", departure: "11:00", seats: 3, booked: 0 };

const TARGETS = [
  { cities: ["Челябинск"], priority: 1 },
  { cities: ["Екатеринбург"], priority: 2 },
];

function buttons(rows: { text: string; data?: string }[][]): Button[][] {
  return rows.map((r) => r.map((b) => ({ ...b })));
}

function menu(id: number, at: number, transports: T[], opts: { text?: string } = {}): MessageEvent {
  return {
    type: "message",
    id,
    at,
    text: opts.text ?? TEXT.menuOpen,
    buttons: buttons([
      ...transports.map((t) => [{ text: TEXT.transportButton(t), data: `${CALLBACK.select}${t.id}` }]),
      [
        { text: BUTTON.test, data: CALLBACK.test },
        { text: BUTTON.myBookings, data: CALLBACK.myBookings },
      ],
    ]),
  };
}

function confirmPrompt(id: number, at: number, t: T): MessageEvent {
  return {
    type: "message",
    id,
    at,
    text: TEXT.confirmPrompt(t),
    buttons: buttons([[{ text: BUTTON.confirm, data: `${CALLBACK.confirm}${t.id}` }, { text: BUTTON.cancel, data: CALLBACK.cancel }]]),
  };
}

function text(id: number, at: number, body: string): MessageEvent {
  return { type: "message", id, at, text: body, buttons: [] };
}

const announcement = (id: number, at: number) => text(id, at, TEXT.announcement);

function fresh(config: Partial<FlowConfig> = {}): FlowState {
  return step(initialState({ targets: TARGETS, ...config }), { type: "start" }).state;
}

function feed(state: FlowState, ...events: FlowEvent[]) {
  const actions: FlowAction[] = [];
  for (const e of events) {
    const r = step(state, e);
    state = r.state;
    actions.push(...r.actions);
  }
  return { state, actions };
}

const sendStart: FlowAction = { type: "sendText", text: "/start" };
const pressOf = (messageId: number, t: T) =>
  expect.objectContaining({ type: "press", messageId, button: expect.objectContaining({ data: `sel:${t.id}`, text: TEXT.transportButton(t) }) });
const pressConfirm = (messageId: number) =>
  expect.objectContaining({ type: "press", messageId, button: expect.objectContaining({ text: BUTTON.confirm }) });
const requests = (actions: FlowAction[]): FlowAction[] => actions.filter((a) => a.type === "sendText" || a.type === "press");

// ------------------------------------------------------------------------------------------------

describe("happy path", () => {
  test("announcement → /start → menu → select → confirm → booked, one transition at a time", () => {
    let s = initialState({ targets: TARGETS });
    expect(s.phase).toBe("idle");
    expect(s.config.texts.booked).toEqual(["забронировано"]); // lowercased: matching ignores case

    // nothing is watched before start
    let r = step(s, announcement(10, 0));
    expect(r.state).toBe(s);
    expect(r.actions).toEqual([]);

    r = step(s, { type: "start" });
    expect(r.state.phase).toBe("waitingAnnouncement");
    expect(r.actions).toEqual([]);

    r = step(r.state, announcement(10, 1000));
    expect(r.state.phase).toBe("startSent");
    expect(r.actions).toEqual([sendStart]);

    r = step(r.state, menu(11, 1047, [EKB, CHEL, KRG]));
    expect(r.state.phase).toBe("selectPressed");
    expect(r.actions).toEqual([pressOf(11, CHEL)]);

    // the bot edits the menu into the confirmation prompt
    r = step(r.state, confirmPrompt(11, 1085, CHEL));
    expect(r.state.phase).toBe("confirmPressed");
    expect(r.actions).toEqual([pressConfirm(11)]);

    r = step(r.state, text(11, 1117, TEXT.booked(CHEL)));
    expect(r.state.phase).toBe("done");
    expect(r.actions).toHaveLength(1);
    const done = r.actions[0]!;
    expect(done.type).toBe("done");
    if (done.type !== "done") throw new Error();
    expect(done.result).toMatchObject({ outcome: "booked", transport: TEXT.transportButton(CHEL), attempts: 1, retries: 0 });
    expect(done.result.stats).toEqual({ smsToStart: 0, startToSelect: 47, selectToConfirm: 38, confirmToResult: 32, total: 85, toResult: 117 });
    expect(r.state.times).toEqual({
      announcementAt: 1000,
      originAt: 1000,
      startSentAt: 1000,
      selectAt: 1047,
      confirmAt: 1085,
      resultAt: 1117,
    });
    expect(stats(r.state)).toEqual(done.result.stats);
  });

  test("the confirmation prompt as a new message works the same", () => {
    const r = feed(fresh(), announcement(1, 0), menu(2, 5, [CHEL]), confirmPrompt(3, 9, CHEL), text(4, 12, TEXT.booked(CHEL)));
    expect(requests(r.actions)).toEqual([sendStart, pressOf(2, CHEL), pressConfirm(3)]);
    expect(r.state.phase).toBe("done");
  });

  test("stats are partial while the flow runs", () => {
    const r = feed(fresh(), announcement(1, 100), menu(2, 140, [CHEL]));
    expect(stats(r.state)).toEqual({ smsToStart: 0, startToSelect: 40, selectToConfirm: undefined, confirmToResult: undefined, total: undefined, toResult: undefined });
    expect(stats(fresh())).toEqual({});
  });

  test("'Общее время' is the sum of the three stages, whichever stages were skipped", () => {
    const runs = [
      feed(fresh(), announcement(1, 1000), { type: "startDelivered", at: 1047 }, menu(2, 1085, [CHEL]), confirmPrompt(2, 1117, CHEL), text(2, 1150, TEXT.booked(CHEL))),
      feed(fresh(), announcement(1, 0), menu(2, 10, [CHEL]), text(2, 25, TEXT.booked(CHEL))),
      feed(fresh(), { type: "trigger", at: 5000 }, menu(10, 5040, [CHEL]), confirmPrompt(10, 5070, CHEL), text(10, 5100, TEXT.booked(CHEL))),
    ];
    for (const r of runs) {
      const st = r.state.result!.stats;
      expect(st.total).toBe(st.smsToStart! + st.startToSelect! + st.selectToConfirm!);
      expect(st.toResult).toBe(st.total! + st.confirmToResult!);
    }
  });

  test("with startDelivered, SMS → /start includes the trip to the server (the seed's measure)", () => {
    const r = feed(
      fresh(),
      { type: "startDelivered", at: 1 }, // before any /start: ignored
      announcement(1, 1000),
      { type: "startDelivered", at: 1047 },
      { type: "startDelivered", at: 1050 }, // only the first counts
      menu(2, 1085, [CHEL]),
      confirmPrompt(2, 1117, CHEL),
      text(2, 1150, TEXT.booked(CHEL)),
    );
    // The seed's block: 47 + 38 + 32 = 117, ending at the confirm press; the result comes 33 ms later.
    expect(r.state.result!.stats).toEqual({ smsToStart: 47, startToSelect: 38, selectToConfirm: 32, confirmToResult: 33, total: 117, toResult: 150 });
    expect(r.actions.filter((a) => a.type !== "log")).toHaveLength(4);
  });
});

describe("choosing a transport", () => {
  const btns = (...ts: T[]) => menu(1, 0, ts).buttons;

  test("best priority wins regardless of button order; ties go to reading order", () => {
    expect(chooseTransport(btns(EKB, CHEL2, CHEL), TARGETS)!.button.data).toBe("sel:2");
    expect(chooseTransport(btns(KRG, EKB), TARGETS)!.button.data).toBe("sel:3");
    expect(chooseTransport(btns(KRG, EKB), TARGETS)!.target.priority).toBe(2);
  });

  test("equal priorities: list order of the targets", () => {
    const targets = [
      { cities: ["Курган"], priority: 1 },
      { cities: ["Екатеринбург"], priority: 1 },
    ];
    expect(chooseTransport(btns(EKB, KRG), targets)!.button.data).toBe("sel:4");
  });

  test("a target may list several cities", () => {
    expect(chooseTransport(btns(EKB, KRG), [{ cities: ["Омск", "Тюмень"], priority: 1 }])!.button.data).toBe("sel:4");
  });

  test("non-transport buttons and sold-out transports are never chosen", () => {
    expect(chooseTransport(btns(), TARGETS)).toBeUndefined();
    expect(chooseTransport(btns(KRG), TARGETS)).toBeUndefined();
    expect(chooseTransport(btns(CHEL, EKB), TARGETS, ["sel:1"])!.button.data).toBe("sel:3");
    expect(chooseTransport(btns(CHEL, EKB), TARGETS, ["sel:1", "sel:3"])).toBeUndefined();
  });

  test("transportKey prefers the callback token over the text (seat counts change)", () => {
    expect(transportKey({ text: "A (мест: 3)", data: "sel:9" })).toBe("sel:9");
    expect(transportKey({ text: "A (мест: 3)" })).toBe("A (мест: 3)");
  });

  test("findConfirmButton matches by substring", () => {
    expect(findConfirmButton(confirmPrompt(1, 0, CHEL).buttons, ["подтвердить"])!.data).toBe("ok:1");
    expect(findConfirmButton(menu(1, 0, [CHEL]).buttons, ["подтвердить"])).toBeUndefined();
  });
});

describe("skipping stages", () => {
  test("an announcement that carries transport buttons is pressed directly", () => {
    const ann = menu(5, 1000, [EKB, CHEL], { text: TEXT.announcement });
    let r = step(fresh(), ann);
    expect(r.actions).toEqual([pressOf(5, CHEL)]);
    expect(r.state.phase).toBe("selectPressed");
    expect(r.state.times.announcementAt).toBe(1000);
    r = feed(r.state, confirmPrompt(5, 1030, CHEL), text(5, 1060, TEXT.booked(CHEL)));
    expect(r.state.result!.stats).toEqual({ smsToStart: 0, startToSelect: 0, selectToConfirm: 30, confirmToResult: 30, total: 30, toResult: 60 });
  });

  test("a menu arriving while waiting is used directly", () => {
    const r = step(fresh(), menu(7, 300, [CHEL]));
    expect(r.actions).toEqual([pressOf(7, CHEL)]);
    expect(r.state.times.originAt).toBe(300);
    expect(r.state.times.announcementAt).toBeUndefined();
  });

  test("a result right after the select (no confirmation stage) is accepted", () => {
    const r = feed(fresh(), announcement(1, 0), menu(2, 10, [CHEL]), text(2, 25, TEXT.booked(CHEL)));
    expect(r.state.phase).toBe("done");
    // no confirm press: the three stages end at the transport press
    expect(r.state.result!.stats).toMatchObject({ smsToStart: 0, startToSelect: 10, selectToConfirm: 0, confirmToResult: 15, total: 10, toResult: 25 });
  });
});

describe("scheduled mode: the trigger", () => {
  test("trigger sends /start without waiting; the late announcement is noted, not acted on", () => {
    let r = step(fresh(), { type: "trigger", at: 5000 });
    expect(r.actions).toEqual([sendStart]);
    expect(r.state.phase).toBe("startSent");
    expect(r.state.times).toMatchObject({ triggerAt: 5000, originAt: 5000, startSentAt: 5000 });

    const afterAnn = step(r.state, announcement(9, 5010));
    expect(afterAnn.actions).toEqual([]);
    expect(afterAnn.state.phase).toBe("startSent");
    expect(afterAnn.state.times.announcementAt).toBe(5010);
    expect(afterAnn.state.times.originAt).toBe(5000);

    r = feed(afterAnn.state, menu(10, 5040, [CHEL]), confirmPrompt(10, 5070, CHEL), text(10, 5100, TEXT.booked(CHEL)));
    expect(r.state.result!.stats.total).toBe(70); // trigger → confirm press
    expect(r.state.result!.stats.toResult).toBe(100);
  });

  test("an announcement with buttons after the trigger is pressed at once (faster than the /start menu)", () => {
    const r = feed(fresh(), { type: "trigger", at: 0 }, menu(9, 3, [CHEL], { text: TEXT.announcement }));
    expect(requests(r.actions)).toEqual([sendStart, pressOf(9, CHEL)]);
  });

  test("a trigger after the announcement is ignored", () => {
    const a = step(fresh(), announcement(1, 0)).state;
    const r = step(a, { type: "trigger", at: 5 });
    expect(r.state).toBe(a);
    expect(r.actions).toEqual([]);
  });

  test("'not open' after the trigger: /start again with a doubling delay, for notOpenWindowMs", () => {
    let r = feed(fresh({ maxRetries: 0, retryDelayMs: 30, notOpenWindowMs: 1000 }), { type: "trigger", at: 0 });
    const notOpen = (id: number, at: number) => text(id, at, TEXT.notOpen("11:30"));

    r = feed(r.state, notOpen(2, 10));
    expect(requests(r.actions)).toEqual([{ type: "sendText", text: "/start", delayMs: 30 }]);
    expect(r.state.retries).toBe(0); // the error budget (maxRetries 0 here) is not spent
    expect(r.state.times.startSentAt).toBe(0); // the first /start is where the stage began

    r = feed(r.state, notOpen(3, 50));
    expect(requests(r.actions)).toEqual([{ type: "sendText", text: "/start", delayMs: 60 }]);
    r = feed(r.state, notOpen(4, 120));
    expect(requests(r.actions)).toEqual([{ type: "sendText", text: "/start", delayMs: 120 }]);

    r = feed(r.state, notOpen(5, 1010)); // 1000 ms after the first "not open"
    expect(r.state.phase).toBe("failed");
    expect(r.state.failure).toContain("booking is not open yet; gave up after 3 retries");
  });

  test("the backoff is capped at NOT_OPEN_MAX_DELAY_MS", () => {
    let r = feed(fresh({ retryDelayMs: 300, notOpenWindowMs: 60_000 }), { type: "trigger", at: 0 });
    const delays: (number | undefined)[] = [];
    for (let i = 0; i < 5; i++) {
      r = feed(r.state, text(2 + i, 10 + i, TEXT.notOpen("11:30")));
      delays.push((requests(r.actions)[0] as { delayMs?: number } | undefined)?.delayMs);
    }
    expect(delays).toEqual([300, 600, NOT_OPEN_MAX_DELAY_MS, NOT_OPEN_MAX_DELAY_MS, NOT_OPEN_MAX_DELAY_MS]);
  });

  test("the announcement during the 'not open' backoff sends /start at once", () => {
    let r = feed(fresh({ retryDelayMs: 500 }), { type: "trigger", at: 0 }, text(2, 5, TEXT.notOpen("11:30")));
    r = feed(r.state, announcement(3, 20));
    expect(requests(r.actions)).toEqual([sendStart]);
    r = feed(r.state, menu(4, 25, [CHEL]));
    expect(requests(r.actions)).toEqual([pressOf(4, CHEL)]);
  });

  test("the bot's closed menu also reads as 'not open'; then the menu opens and is used", () => {
    const r = feed(fresh(), { type: "trigger", at: 0 }, text(2, 5, TEXT.menuClosed("11:30")), menu(3, 40, [CHEL]));
    expect(requests(r.actions).map((a) => a.type)).toEqual(["sendText", "sendText", "press"]);
    expect(requests(r.actions)[2]).toEqual(pressOf(3, CHEL));
    expect(r.state.notOpen).toBe(1);
  });
});

describe("sold out: fall back in priority order", () => {
  test("presses the next target from the latest menu", () => {
    let r = feed(fresh(), announcement(1, 0), menu(2, 10, [EKB, CHEL]), confirmPrompt(3, 20, CHEL));
    r = step(r.state, text(4, 30, TEXT.soldOut(CHEL)));
    expect(requests(r.actions)).toEqual([pressOf(2, EKB)]);
    expect(r.actions.some((a) => a.type === "log" && a.message.includes("sold out"))).toBe(true);
    expect(r.state.soldOut).toEqual(["sel:1"]);
    expect(r.state.phase).toBe("selectPressed");

    r = feed(r.state, confirmPrompt(5, 40, EKB), text(6, 50, TEXT.booked(EKB)));
    expect(r.state.result).toMatchObject({ outcome: "booked", transport: TEXT.transportButton(EKB), attempts: 2 });
    // startToSelect runs to the select that won; selectToConfirm is that transport's own
    expect(r.state.result!.stats).toEqual({ smsToStart: 0, startToSelect: 30, selectToConfirm: 10, confirmToResult: 10, total: 40, toResult: 50 });
  });

  test("a second transport of the same city comes before the next priority", () => {
    const r = feed(fresh(), announcement(1, 0), menu(2, 1, [EKB, CHEL, CHEL2]), confirmPrompt(3, 2, CHEL), text(4, 3, TEXT.soldOut(CHEL)));
    expect(requests(r.actions).at(-1)).toEqual(pressOf(2, CHEL2));
  });

  test("no other target in the menu: /start again, and the sold-out one is never pressed twice", () => {
    let r = feed(fresh(), announcement(1, 0), menu(2, 10, [CHEL, KRG]), confirmPrompt(2, 20, CHEL), text(2, 30, TEXT.soldOut(CHEL)));
    expect(requests(r.actions).at(-1)).toEqual(sendStart);
    expect(r.state.phase).toBe("startSent");
    expect(r.state.menu).toBeUndefined();

    // the fresh menu still lists it (with another seat count): the next target is taken instead
    const again = { ...CHEL, booked: 11 };
    r = step(r.state, menu(5, 40, [again, EKB]));
    expect(r.actions).toEqual([pressOf(5, EKB)]);
  });

  test("a menu offering only sold-out targets fails the flow with the reason", () => {
    let r = feed(fresh(), announcement(1, 0), menu(2, 10, [CHEL]), confirmPrompt(3, 20, CHEL), text(4, 30, TEXT.soldOut(CHEL)));
    expect(requests(r.actions).at(-1)).toEqual(sendStart);
    r = step(r.state, menu(5, 40, [CHEL]));
    expect(r.state.phase).toBe("failed");
    expect(r.actions).toEqual([{ type: "failed", reason: "every transport matching the targets is sold out" }]);
  });

  test("when the menu message itself was edited away, it is not pressed again", () => {
    // menu 2 → edited into the prompt → edited into "sold out": its transport buttons are gone
    const r = feed(fresh(), announcement(1, 0), menu(2, 10, [CHEL, EKB]), confirmPrompt(2, 20, CHEL), text(2, 30, TEXT.soldOut(CHEL)));
    expect(requests(r.actions).at(-1)).toEqual(sendStart);
  });

  test("a sold-out message that carries the remaining menu is used directly", () => {
    const soldOutWithMenu = menu(2, 30, [CHEL, EKB], { text: TEXT.soldOut(CHEL) });
    const r = feed(fresh(), announcement(1, 0), menu(2, 10, [CHEL, EKB]), confirmPrompt(2, 20, CHEL), soldOutWithMenu);
    expect(requests(r.actions).at(-1)).toEqual(pressOf(2, EKB));
  });

  test("'sold out' with nothing pressed is a stray message", () => {
    const s = step(fresh(), { type: "trigger", at: 0 }).state;
    const r = step(s, text(9, 1, TEXT.soldOut(CHEL)));
    expect(r.state).toBe(s);
    expect(r.actions).toEqual([]);
  });
});

describe("errors and timeouts", () => {
  test("a retryable error repeats the last request, with FLOOD_WAIT's delay", () => {
    let r = feed(fresh(), announcement(1, 0), menu(2, 10, [CHEL]));
    r = step(r.state, { type: "error", reason: "FLOOD_WAIT_3", retryable: true, retryAfterMs: 3000, at: 12 });
    expect(requests(r.actions)).toEqual([pressOf(2, CHEL)]);
    expect((requests(r.actions)[0] as { delayMs?: number }).delayMs).toBe(3000);
    expect(r.state.retries).toBe(1);
    expect(r.state.phase).toBe("selectPressed");
    expect(r.state.attempts).toBe(1); // the same transport, not a new attempt

    // a later plain error repeats it without the delay
    r = step(r.state, { type: "error", reason: "RPC_CALL_FAIL", retryable: true, at: 20 });
    expect((requests(r.actions)[0] as { delayMs?: number }).delayMs).toBeUndefined();
  });

  test("retries are bounded by maxRetries", () => {
    let r = feed(fresh({ maxRetries: 1 }), announcement(1, 0));
    r = step(r.state, { type: "error", reason: "network down", retryable: true, at: 1 });
    expect(requests(r.actions)).toEqual([sendStart]);
    r = step(r.state, { type: "error", reason: "network down", retryable: true, at: 2 });
    expect(r.state.phase).toBe("failed");
    expect(r.actions).toEqual([{ type: "failed", reason: "network down; gave up after 1 retries" }]);
  });

  test("a non-retryable error fails at once", () => {
    const r = feed(fresh(), announcement(1, 0), { type: "error", reason: "USER_DEACTIVATED", retryable: false, at: 1 });
    expect(r.state.phase).toBe("failed");
    expect(r.state.failure).toBe("USER_DEACTIVATED");
  });

  test("a retryable error while waiting is only logged", () => {
    const s = fresh();
    const r = step(s, { type: "error", reason: "FLOOD_WAIT_5", retryable: true, at: 1 });
    expect(r.state).toBe(s);
    expect(r.actions).toEqual([{ type: "log", level: "warn", message: "FLOOD_WAIT_5 (still waiting for the announcement)" }]);
  });

  test("a timeout during the flow sends /start again; a late result is still accepted", () => {
    let r = feed(fresh(), announcement(1, 0), menu(2, 10, [CHEL]), confirmPrompt(2, 20, CHEL));
    r = step(r.state, { type: "timeout", at: 10_020 });
    expect(requests(r.actions)).toEqual([sendStart]);
    expect(r.state.phase).toBe("startSent");
    r = step(r.state, text(2, 10_030, TEXT.booked(CHEL)));
    expect(r.state.phase).toBe("done");
    expect(r.state.result!.retries).toBe(1);
  });

  test("a timeout while waiting for the announcement fails", () => {
    const r = step(fresh(), { type: "timeout", at: 60_000 });
    expect(r.state.phase).toBe("failed");
    expect(r.actions[0]).toEqual({ type: "failed", reason: "no announcement from the bot before the deadline" });
  });
});

describe("other outcomes and robustness", () => {
  test("'already booked' ends the flow as done, outcome alreadyBooked", () => {
    const r = feed(fresh(), announcement(1, 0), menu(2, 10, [CHEL]), text(3, 20, TEXT.alreadyBooked(CHEL)));
    expect(r.state.phase).toBe("done");
    expect(r.state.result!.outcome).toBe("alreadyBooked");
  });

  test("stray messages are ignored in every phase: same state, no actions", () => {
    const stray = [
      text(99, 1, "Реклама: купите слона"),
      text(99, 1, TEXT.hint),
      text(99, 1, TEXT.testStarting(2000)),
      { ...text(99, 1, "Выберите"), buttons: buttons([[{ text: BUTTON.test, data: CALLBACK.test }, { text: BUTTON.myBookings }]]) },
      menu(99, 1, [KRG]), // a menu with no target city
    ];
    const phases: FlowState[] = [
      fresh(),
      feed(fresh(), announcement(1, 0)).state,
      feed(fresh(), announcement(1, 0), menu(2, 0, [CHEL])).state,
      feed(fresh(), announcement(1, 0), menu(2, 0, [CHEL]), confirmPrompt(3, 0, CHEL)).state,
    ];
    expect(phases.map((p) => p.phase)).toEqual(["waitingAnnouncement", "startSent", "selectPressed", "confirmPressed"]);
    for (const s of phases) {
      for (const m of stray) {
        const r = step(s, m);
        expect(r.actions).toEqual([]);
        expect(r.state.phase).toBe(s.phase);
        expect(r.state.times).toEqual(s.times);
      }
    }
  });

  test("a second menu after the select, and a duplicate confirm prompt, are not pressed", () => {
    let r = feed(fresh(), announcement(1, 0), menu(2, 10, [CHEL]));
    r = step(r.state, menu(3, 11, [CHEL]));
    expect(r.actions).toEqual([]);
    r = feed(r.state, confirmPrompt(2, 12, CHEL));
    r = step(r.state, confirmPrompt(2, 13, CHEL));
    expect(r.actions).toEqual([]);
  });

  test("an edited menu (new seat counts) in startSent is used", () => {
    const r = feed(fresh(), announcement(1, 0), menu(2, 10, [KRG]), menu(2, 20, [KRG, CHEL]));
    expect(requests(r.actions)).toEqual([sendStart, pressOf(2, CHEL)]);
  });

  test("finished flows ignore everything", () => {
    const done = feed(fresh(), announcement(1, 0), menu(2, 1, [CHEL]), text(2, 2, TEXT.booked(CHEL))).state;
    for (const e of [announcement(5, 9), menu(6, 9, [CHEL]), { type: "trigger", at: 9 }, { type: "timeout", at: 9 }, { type: "start" }] as FlowEvent[]) {
      const r = step(done, e);
      expect(r.state).toBe(done);
      expect(r.actions).toEqual([]);
    }
  });

  test("recognised texts come from the config", () => {
    const texts = { ...DEFAULT_FLOW_CONFIG.texts, announcement: ["Booking is open"], booked: ["Booked!"], confirmButton: ["Confirm"] };
    const targets = [{ cities: ["Chelyabinsk"], priority: 1 }];
    let s = step(initialState({ targets, texts }), { type: "start" }).state;
    let r = step(s, text(1, 0, TEXT.announcement)); // our bot's Russian text no longer matches
    expect(r.actions).toEqual([]);
    r = feed(
      s,
      text(1, 0, "Booking is open!"),
      { ...text(2, 1, "Pick one"), buttons: buttons([[{ text: "Chelyabinsk → Perm 08:00", data: "x" }]]) },
      { ...text(2, 2, "Sure?"), buttons: buttons([[{ text: "✅ Confirm", data: "y" }]]) },
      text(2, 3, "Booked!"),
    );
    expect(r.state.phase).toBe("done");
  });

  test("step never mutates the state it is given", () => {
    const s = feed(fresh(), announcement(1, 0), menu(2, 10, [CHEL, EKB]), confirmPrompt(3, 20, CHEL)).state;
    const snapshot = JSON.stringify(s);
    feed(s, text(4, 30, TEXT.soldOut(CHEL)), { type: "error", reason: "x", retryable: true, at: 40 }, text(5, 50, TEXT.booked(EKB)));
    expect(JSON.stringify(s)).toBe(snapshot);
  });
});

describe("the bots people use (issue 8)", () => {
  const replyMenu = (id: number, at: number, labels: string[]): MessageEvent => ({
    type: "message",
    id,
    at,
    text: "Выберите рейс",
    buttons: labels.map((text) => [{ text, reply: true }]),
  });

  test("a reply-keyboard menu is pressed like an inline one (the adapter sends the label)", () => {
    const r = feed(fresh(), announcement(1, 0), replyMenu(2, 5, ["Курган 10:00", "Челябинск 08:00"]));
    expect(requests(r.actions).at(-1)).toMatchObject({ type: "press", button: { text: "Челябинск 08:00", reply: true } });
    expect(r.state.phase).toBe("selectPressed");
  });

  test("a removed reply keyboard is no menu to fall back on", () => {
    let s = feed(fresh(), announcement(1, 0), replyMenu(2, 5, ["Челябинск 08:00", "Екатеринбург 09:00"])).state;
    s = step(s, { ...text(3, 6, "Подтвердите?"), keyboardRemoved: true, buttons: buttons([[{ text: "Подтвердить", data: "y" }]]) }).state;
    expect(s.menu).toBeUndefined();
    const r = step(s, text(4, 7, "Мест нет"));
    expect(requests(r.actions)).toEqual([sendStart]); // a fresh menu, not a press on a keyboard that is gone
  });

  test("sold out said only in the callback answer: the next priority is pressed at once, the echo ignored", () => {
    let r = feed(fresh(), announcement(1, 0), menu(2, 5, [CHEL, EKB]));
    const pressed = r.state.requests;
    r = step(r.state, { type: "answer", text: "❌ Мест нет", request: pressed, at: 6 });
    expect(requests(r.actions)).toEqual([pressOf(2, EKB)]);
    expect(r.state.soldOut).toEqual(["sel:1"]);
    // the bot's message saying the same about the first press changes nothing
    const echo = step(r.state, text(2, 7, "❌ Мест нет: Челябинск"));
    expect(echo.actions).toEqual([]);
    expect(echo.state.current?.data).toBe("sel:3");
    // an answer to an earlier request is old news
    expect(step(r.state, { type: "answer", text: "Мест нет", request: pressed, at: 8 }).actions).toEqual([]);
  });

  test("booked in the answer is a result like the message", () => {
    let r = feed(fresh(), announcement(1, 0), menu(2, 5, [CHEL]), confirmPrompt(2, 6, CHEL));
    r = step(r.state, { type: "answer", text: "Забронировано", request: r.state.requests, at: 7 });
    expect(r.state.phase).toBe("done");
    expect(r.state.result?.outcome).toBe("booked");
  });

  test("buttons whose label says sold out are skipped; '10 мест' is not '0 мест'", () => {
    const b = buttons([[{ text: "Челябинск — нет мест", data: "a" }], [{ text: "Челябинск, 10 мест", data: "b" }], [{ text: "Екатеринбург 0 мест", data: "c" }]]);
    expect(chooseTransport(b, TARGETS, [], DEFAULT_FLOW_CONFIG.texts.soldOutButton)!.button.data).toBe("b");
    expect(labelSaysSoldOut(TEXT.transportButton({ ...CHEL, booked: CHEL.seats }), DEFAULT_FLOW_CONFIG.texts.soldOutButton)).toBe(true);
  });

  test("texts match case-insensitively, any of a list", () => {
    const s = fresh({ texts: { ...DEFAULT_FLOW_CONFIG.texts, announcement: ["ЗАПИСЬ ОТКРЫТА", "booking open"] } });
    expect(requests(step(s, text(1, 0, "Booking OPEN now")).actions)).toEqual([sendStart]);
    expect(requests(step(s, text(1, 0, "запись открыта!")).actions)).toEqual([sendStart]);
  });

  test("a failure stamps no result time and computes no total from a timeout", () => {
    const r = feed(fresh({ maxRetries: 0 }), announcement(1, 0), menu(2, 5, [CHEL]), { type: "timeout", at: 10_005 });
    expect(r.state.phase).toBe("failed");
    expect(r.state.failedIn).toBe("selectPressed");
    expect(r.state.times.resultAt).toBeUndefined();
    expect(stats(r.state)).toMatchObject({ total: undefined, confirmToResult: undefined, toResult: undefined });
  });
});
