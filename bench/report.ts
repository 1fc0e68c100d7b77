// The benchmark's table: each figure beside its target, misses marked, nothing hidden.

export interface Row {
  figure: string;
  value: string;
  target?: string;
  /** undefined: no target for this figure */
  met?: boolean;
}

export function table(rows: Row[]): string {
  const head = ["figure", "measured", "target", ""];
  const cells = rows.map((r) => [r.figure, r.value, r.target ?? "", r.met === undefined ? "" : r.met ? "✓" : "✗ MISS"]);
  const width = head.map((h, i) => Math.max(h.length, ...cells.map((c) => [...c[i]!].length)));
  const line = (c: string[]) => c.map((x, i) => x + " ".repeat(width[i]! - [...x].length)).join("  ").trimEnd();
  return [line(head), width.map((w) => "-".repeat(w)).join("  "), ...cells.map(line)].join("\n");
}

export const ms = (x: number) => (Number.isFinite(x) ? `${x.toFixed(x < 10 ? 3 : 1)} ms` : "—");
export const pct = (p: { p50: number; p99: number; max?: number }) =>
  `p50 ${ms(p.p50)}, p99 ${ms(p.p99)}${p.max !== undefined ? `, max ${ms(p.max)}` : ""}`;
