// The transports file: validated once at start-up, so a typo stops the bot with a clear message.

import { readFileSync } from "node:fs";
import type { TransportSeed } from "../db.ts";

export function parseTransports(json: unknown, source: string): TransportSeed[] {
  if (!Array.isArray(json) || json.length === 0) throw new Error(`${source}: expected a non-empty JSON array of transports`);
  return json.map((t, i) => {
    const where = `${source}[${i}]`;
    if (typeof t !== "object" || t === null) throw new Error(`${where}: expected an object`);
    const o = t as Record<string, unknown>;
    for (const k of ["from_city", "to_city", "departure"]) {
      if (typeof o[k] !== "string" || !(o[k] as string).trim()) throw new Error(`${where}.${k}: expected a non-empty string`);
    }
    if (!/^([01]\d|2[0-3]):[0-5]\d$/.test(o.departure as string)) throw new Error(`${where}.departure: expected "HH:MM", e.g. "07:30"`);
    if (!Number.isInteger(o.seats) || (o.seats as number) < 1 || (o.seats as number) > 1000) {
      throw new Error(`${where}.seats: expected a whole number from 1 to 1000`);
    }
    return { from_city: o.from_city as string, to_city: o.to_city as string, departure: o.departure as string, seats: o.seats as number };
  });
}

export function loadTransports(path: string): TransportSeed[] {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    throw new Error(`cannot read the transports file ${path} (TRANSPORTS_FILE): ${(e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`${path}: not valid JSON: ${(e as Error).message}`);
  }
  return parseTransports(json, path);
}
