// docs/bench.svg, written by `bun run bench`: the test booking's e2e over each simulated round trip
// (every booking a dot, the median a bar) for our client and the polling baseline against the
// protocol's limit, and our seat in each race. Hand-written SVG: no plotting dependency.

export interface SvgNetworkRow {
  rtt_ms: number;
  limit_ms: number;
  ours_samples_ms: number[];
  baseline_samples_ms: number[];
  ours_ratio: number;
  baseline_ratio: number;
}

export interface SvgRaces {
  scheduled: (number | null)[];
  immediate: (number | null)[];
  scheduled_ms: (number | null)[];
  users: number;
  seats: number;
  rtt_ms: number;
}

const W = 760;
const LEFT = 120;
const RIGHT = 30;
const ROW_H = 64;
const OURS = "#1f6feb";
const BASE = "#d97706";
const LIMIT = "#cf222e";

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const text = (x: number, y: number, s: string, extra = "") => `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}"${extra ? " " + extra : ""}>${esc(s)}</text>`;
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)]! : NaN;
};

/** A round axis end and tick step for values up to `max`. */
function axis(max: number): { end: number; step: number } {
  const raw = Math.max(max, 1) / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw)!;
  return { end: Math.ceil(max / step) * step, step };
}

export function benchSvg(network: SvgNetworkRow[], races: SvgRaces | null, title: string): string {
  const out: string[] = [];
  const max = Math.max(...network.flatMap((r) => [r.limit_ms, ...r.ours_samples_ms, ...r.baseline_samples_ms]), 1);
  const { end, step } = axis(max);
  const x = (ms: number) => LEFT + (ms / end) * (W - LEFT - RIGHT);
  let y = 30;
  out.push(text(10, y, title, 'font-size="15" font-weight="bold"'));
  y += 20;
  out.push(text(10, y, "Test booking e2e (announcement → confirm, the bot's clock): each dot a booking, bar = median", 'fill="#555"'));
  y += 14;
  const legend = [
    [OURS, "ours (bun client.ts)"],
    [BASE, "baseline (30 ms polling userbot)"],
    [LIMIT, "limit: round trips × delays + the bot's handling"],
  ] as const;
  let lx = 10;
  for (const [color, label] of legend) {
    out.push(`<rect x="${lx}" y="${y}" width="10" height="10" fill="${color}"/>`, text(lx + 14, y + 9, label));
    lx += 14 + label.length * 6 + 16;
  }
  y += 26;
  const plotTop = y;
  for (const r of network) {
    const mid = y + ROW_H / 2;
    out.push(text(10, mid - 4, `RTT ${r.rtt_ms} ms`, 'font-weight="bold"'));
    out.push(text(10, mid + 12, `ours ${r.ours_ratio}× limit`, `fill="${OURS}"`));
    out.push(text(10, mid + 26, `base ${r.baseline_ratio}× limit`, `fill="${BASE}"`));
    const lines: [number[], number, string][] = [
      [r.ours_samples_ms, mid - 10, OURS],
      [r.baseline_samples_ms, mid + 14, BASE],
    ];
    for (const [samples, cy, color] of lines) {
      for (const v of samples) out.push(`<circle cx="${x(v).toFixed(1)}" cy="${cy}" r="3.5" fill="${color}" fill-opacity="0.45"/>`);
      const m = median(samples);
      if (Number.isFinite(m)) out.push(`<rect x="${(x(m) - 1.5).toFixed(1)}" y="${cy - 9}" width="3" height="18" fill="${color}"/>`);
    }
    out.push(`<line x1="${x(r.limit_ms).toFixed(1)}" x2="${x(r.limit_ms).toFixed(1)}" y1="${y + 6}" y2="${y + ROW_H - 4}" stroke="${LIMIT}" stroke-width="2" stroke-dasharray="4 3"/>`);
    out.push(text(x(r.limit_ms) + 4, y + 14, `${Math.round(r.limit_ms)} ms`, `fill="${LIMIT}" font-size="11"`));
    out.push(`<line x1="${LEFT}" x2="${W - RIGHT}" y1="${y + ROW_H}" y2="${y + ROW_H}" stroke="#eee"/>`);
    y += ROW_H;
  }
  for (let v = 0; v <= end; v += step) {
    out.push(`<line x1="${x(v).toFixed(1)}" x2="${x(v).toFixed(1)}" y1="${plotTop}" y2="${y + 4}" stroke="#ddd"/>`);
    out.push(text(x(v), y + 18, `${v}`, 'text-anchor="middle" fill="#555" font-size="11"'));
  }
  out.push(text(W - RIGHT, y + 34, "ms", 'text-anchor="end" fill="#555" font-size="11"'));
  y += 56;

  if (races) {
    out.push(text(10, y, `Races (${races.users} users, broadcast at 30/s, ${races.seats} seats, RTT ${races.rtt_ms} ms): our seat, time after the opening`, 'font-weight="bold"'));
    y += 16;
    const rows: [string, (number | null)[]][] = [
      ["scheduled", races.scheduled],
      ["immediate", races.immediate],
    ];
    for (const [mode, ranks] of rows) {
      out.push(text(10, y + 19, mode));
      ranks.forEach((rank, i) => {
        const cx = LEFT + i * 64;
        const won = rank !== null;
        out.push(`<rect x="${cx}" y="${y + 4}" width="56" height="22" rx="4" fill="${won ? (rank === 1 ? "#2da44e" : "#9be9a8") : "#eee"}"/>`);
        const ms = mode === "scheduled" ? races.scheduled_ms[i] : null;
        out.push(text(cx + 28, y + 19, won ? `#${rank}${ms !== null && ms !== undefined ? ` ${Math.round(ms)}ms` : ""}` : "no seat", `text-anchor="middle" font-size="11" fill="${rank === 1 ? "#fff" : won ? "#111" : "#555"}"`));
      });
      y += 30;
    }
    y += 10;
  }
  const h = Math.ceil(y);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${h}" viewBox="0 0 ${W} ${h}" font-family="system-ui, -apple-system, Segoe UI, sans-serif" font-size="12">
<rect width="${W}" height="${h}" fill="#fff"/>
${out.join("\n")}
</svg>
`;
}
