// Request parameters as Telegram's servers accept them: query string, JSON, urlencoded or
// multipart bodies. Form and query values are strings, so readers coerce (numbers, JSON objects).

import { gunzipSync, inflateRawSync, inflateSync } from "node:zlib";
import { WorldError } from "./world.ts";

export type Params = Record<string, unknown>;

/** Merge the query string (`search`, without "?") and the body into one object; the body wins. */
export async function readParams(req: Request, search: string): Promise<Params> {
  const params: Params = search ? Object.fromEntries(new URLSearchParams(search)) : {};
  if (req.method === "GET" || req.method === "HEAD") return params;
  const type = req.headers.get("content-type") ?? "";
  const encoded = contentEncoding(req) !== "identity";
  if (type.startsWith("application/json")) {
    const text = encoded ? (await decodedBody(req)).toString("utf8") : await req.text();
    if (!text) return params;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new WorldError(400, "Bad Request: can't parse JSON object");
    }
    if (json === null || typeof json !== "object" || Array.isArray(json)) {
      throw new WorldError(400, "Bad Request: parameters must be a JSON object");
    }
    return Object.keys(params).length ? Object.assign(params, json) : (json as Params);
  }
  if (type.startsWith("application/x-www-form-urlencoded")) {
    const text = encoded ? (await decodedBody(req)).toString("utf8") : await req.text();
    for (const [k, v] of new URLSearchParams(text)) params[k] = v;
    return params;
  }
  if (type.startsWith("multipart/form-data")) {
    const form = encoded ? await new Response(new Uint8Array(await decodedBody(req)), { headers: { "content-type": type } }).formData() : await req.formData();
    for (const [k, v] of form) if (typeof v === "string") params[k] = v;
    return params;
  }
  return params;
}

function contentEncoding(req: Request): string {
  return (req.headers.get("content-encoding") ?? "identity").trim().toLowerCase() || "identity";
}

/** The request body with its Content-Encoding (gzip, deflate) undone, as Telegram accepts them. */
async function decodedBody(req: Request): Promise<Buffer> {
  const raw = Buffer.from(await req.arrayBuffer());
  const encoding = contentEncoding(req);
  try {
    if (encoding === "gzip" || encoding === "x-gzip") return gunzipSync(raw);
    // HTTP's "deflate" is zlib-wrapped; some clients send raw deflate under that name.
    if (encoding === "deflate") return raw[0] === 0x78 ? inflateSync(raw) : inflateRawSync(raw);
  } catch {
    throw new WorldError(400, `Bad Request: can't decode the ${encoding} request body`);
  }
  throw new WorldError(400, `Bad Request: unsupported Content-Encoding ${encoding}`);
}

const missing = (name: string) => new WorldError(400, `Bad Request: ${name} is empty`);

export function optInt(p: Params, name: string): number | undefined {
  const v = p[name];
  if (v === undefined || v === null || v === "") return undefined;
  const n = typeof v === "number" ? v : typeof v === "string" && /^-?\d+$/.test(v.trim()) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n)) throw new WorldError(400, `Bad Request: invalid ${name} specified`);
  return n;
}

export function int(p: Params, name: string): number {
  const n = optInt(p, name);
  if (n === undefined) throw missing(name);
  return n;
}

export function optStr(p: Params, name: string): string | undefined {
  const v = p[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  throw new WorldError(400, `Bad Request: ${name} must be a string`);
}

export function optBool(p: Params, name: string): boolean | undefined {
  const v = p[name];
  if (v === undefined || v === null || v === "") return undefined;
  return v === true || v === "true" || v === "1" || v === 1;
}

/** An object or array parameter; form bodies carry these as JSON strings. */
export function optJson(p: Params, name: string, error: string): unknown {
  const v = p[name];
  if (v === undefined || v === null || v === "") return undefined;
  if (typeof v !== "string") return v;
  try {
    return JSON.parse(v);
  } catch {
    throw new WorldError(400, `Bad Request: ${error}`);
  }
}
