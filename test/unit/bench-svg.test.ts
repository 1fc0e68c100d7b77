// bench/svg.ts draws what it is given: a dot per booking, a median bar per client, the limit line
// at its value on a shared axis, and one badge per race; the output is well-formed SVG.

import { expect, test } from "bun:test";
import { benchSvg } from "../../bench/svg.ts";

const network = [
  { rtt_ms: 0, limit_ms: 130, ours_samples_ms: [140, 150, 160], baseline_samples_ms: [240, 250], ours_ratio: 1.15, baseline_ratio: 1.9 },
  { rtt_ms: 100, limit_ms: 430, ours_samples_ms: [450, 460], baseline_samples_ms: [760, 780, 800], ours_ratio: 1.06, baseline_ratio: 1.8 },
];
const races = { scheduled: [1, 2], immediate: [null, null], scheduled_ms: [300, 310], users: 2000, seats: 3, rtt_ms: 60 };

test("every booking is a dot, every race a badge, every limit a labelled line", () => {
  const svg = benchSvg(network, races, "title <&>");
  expect(svg.startsWith("<svg xmlns=\"http://www.w3.org/2000/svg\"")).toBe(true);
  expect(svg.trimEnd().endsWith("</svg>")).toBe(true);
  expect(svg.match(/<circle /g)).toHaveLength(10);
  expect(svg).toContain("title &lt;&amp;&gt;");
  expect(svg).toContain(">130 ms<");
  expect(svg).toContain(">430 ms<");
  expect(svg).toContain(">#1 300ms<");
  expect(svg).toContain(">#2 310ms<");
  expect(svg.match(/>no seat</g)).toHaveLength(2);
  // Is it parseable XML? Every tag opened is closed.
  const opened = (svg.match(/<(svg|text)\b/g) ?? []).length;
  const closed = (svg.match(/<\/(svg|text)>/g) ?? []).length;
  expect(opened).toBe(closed);
});

test("the x axis is shared: a value twice as large sits twice as far from the axis origin", () => {
  const svg = benchSvg([{ ...network[0]!, ours_samples_ms: [100], baseline_samples_ms: [200], limit_ms: 50 }], null, "t");
  const xs = [...svg.matchAll(/<circle cx="([\d.]+)"/g)].map((m) => Number(m[1]));
  const origin = Number(/<line x1="([\d.]+)"[^>]*stroke="#ddd"/.exec(svg)![1]);
  expect(xs).toHaveLength(2);
  expect((xs[1]! - origin) / (xs[0]! - origin)).toBeCloseTo(2, 5);
});
