// API layers: a client names its layer in invokeWithLayer, and Telegram reads its requests and
// writes its answers in that layer. The sandbox's handlers speak gramjs's layer (its Api classes);
// for the other layers it has a TL schema of (sandbox/tl/layer-*.tl) it converts by constructor
// name: a request read in the client's layer becomes the gramjs object of the same name, and an
// answer is written with the client's layer's constructor of the same name, field by field.
// Fields the client's layer has and gramjs's lacks get TL's zero values; fields it lacks are left
// out. A layer without a schema gets the nearest lower one.

import "./gramjs-prelude.ts";
import { readFileSync } from "node:fs";
import { Api } from "telegram";
import { BinaryReader } from "telegram/extensions";
import { returnBigInt, toSignedLittleBuffer } from "telegram/Helpers";
import { LAYER as GRAMJS_LAYER } from "telegram/tl/AllTLObjects";
import { parseTl, serializeBytes } from "telegram/tl/generationHelpers";

interface ArgConfig {
  isVector: boolean;
  isFlag: boolean;
  skipConstructorId: boolean;
  flagName: string | null;
  flagIndex: number;
  flagIndicator: boolean;
  type: string | null;
  useVectorId: boolean | null;
}
interface Definition {
  name: string;
  namespace?: string;
  constructorId: number;
  argsConfig: Record<string, ArgConfig>;
  isFunction: boolean;
}

/** Reads requests and writes answers in one layer. */
export interface LayerCodec {
  readonly layer: number;
  /** A request body as gramjs objects; throws gramjs's TypeNotFoundError for an unknown constructor. */
  read(body: Buffer): unknown;
  /** A gramjs object (or Bool, or Vector of objects) as this layer's bytes. */
  write(value: unknown): Buffer;
}

type TlObject = { className: string; getBytes(): Buffer };

const VECTOR = 0x1cb5c415;
const BOOL_TRUE = 0x997275b5;
const BOOL_FALSE = 0xbc799737;

/** gramjs's own layer: its classes read and write themselves. */
const gramjsCodec: LayerCodec = {
  layer: GRAMJS_LAYER,
  read: (body) => new BinaryReader(body).tgReadObject(),
  write: (value) => writeWith(value, (o) => (o as TlObject).getBytes()),
};

function writeWith(value: unknown, one: (o: unknown) => Buffer): Buffer {
  if (typeof value === "boolean") return uint32(value ? BOOL_TRUE : BOOL_FALSE);
  if (Array.isArray(value)) {
    const head = Buffer.allocUnsafe(8);
    head.writeUInt32LE(VECTOR, 0);
    head.writeInt32LE(value.length, 4);
    return Buffer.concat([head, ...value.map(one)]);
  }
  return one(value);
}

function uint32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32LE(n >>> 0, 0);
  return b;
}

/** The gramjs class for a TL name ("User", "messages.SendMessage"), if gramjs's layer has it. */
function gramjsClass(fullName: string): (new (args: object) => TlObject) | undefined {
  const [ns, name] = fullName.includes(".") ? fullName.split(".") : [undefined, fullName];
  const holder = (ns ? (Api as unknown as Record<string, Record<string, unknown>>)[ns] : Api) as Record<string, unknown> | undefined;
  return holder?.[name!] as (new (args: object) => TlObject) | undefined;
}

class SchemaCodec implements LayerCodec {
  private readonly byId = new Map<number, Definition>();
  /** Constructors (not functions) by full name: answers are written with these. */
  private readonly byName = new Map<string, Definition>();

  constructor(
    readonly layer: number,
    tl: string,
  ) {
    for (const d of parseTl(tl, String(layer)) as Iterable<Definition>) {
      this.byId.set(d.constructorId >>> 0, d);
      if (!d.isFunction) this.byName.set(fullName(d), d);
    }
  }

  read(body: Buffer): unknown {
    return this.readObject(new BinaryReader(body));
  }

  private readObject(r: BinaryReader): unknown {
    const id = r.readInt(false) >>> 0;
    if (id === BOOL_TRUE) return true;
    if (id === BOOL_FALSE) return false;
    if (id === VECTOR) {
      const n = r.readInt();
      return Array.from({ length: n }, () => this.readObject(r));
    }
    const d = this.byId.get(id);
    if (!d) {
      // MTProto's own types (not in API layers) read by gramjs.
      r.seek(-4);
      return r.tgReadObject();
    }
    const args: Record<string, unknown> = {};
    for (const [name, a] of Object.entries(d.argsConfig)) {
      if (a.isFlag) {
        const on = ((args[a.flagName!] as number) & (1 << a.flagIndex)) !== 0;
        args[name] = a.type === "true" ? on : on ? this.readArg(r, a) : undefined;
      } else {
        args[name] = this.readArg(r, a);
      }
    }
    const cls = gramjsClass(fullName(d));
    return cls ? new cls(args) : { className: fullName(d), ...args };
  }

  private readArg(r: BinaryReader, a: ArgConfig): unknown {
    if (a.flagIndicator) return r.readInt(false);
    if (a.isVector) {
      if (a.useVectorId) r.readInt(false);
      const n = r.readInt();
      return Array.from({ length: n }, () => this.readScalar(r, a.type!));
    }
    return this.readScalar(r, a.type!);
  }

  private readScalar(r: BinaryReader, type: string): unknown {
    switch (type) {
      case "int":
      case "date":
        return r.readInt();
      case "long":
        return r.readLong();
      case "int128":
        return r.readLargeInt(128);
      case "int256":
        return r.readLargeInt(256);
      case "double":
        return r.readDouble();
      case "string":
        return r.tgReadString();
      case "bytes":
        return r.tgReadBytes();
      case "Bool":
        return r.tgReadBool();
      case "true":
        return true;
      default:
        return this.readObject(r);
    }
  }

  write(value: unknown): Buffer {
    return writeWith(value, (o) => this.writeObject(o as TlObject));
  }

  private writeObject(o: TlObject): Buffer {
    const d = this.byName.get(o.className);
    if (!d) {
      // MTProto's own types (rpc_error...) are the same in every layer; an API type this layer
      // lacks goes out as gramjs writes it, and the client says what it cannot read.
      if (!(o.className in MTPROTO_TYPES)) warnMissing(this.layer, o.className);
      return o.getBytes();
    }
    const parts: Buffer[] = [uint32(d.constructorId)];
    const fields = o as unknown as Record<string, unknown>;
    for (const [name, a] of Object.entries(d.argsConfig)) {
      if (a.flagIndicator) {
        let flags = 0;
        for (const [n, f] of Object.entries(d.argsConfig)) if (f.isFlag && f.flagName === name && present(fields[n], f)) flags |= 1 << f.flagIndex;
        parts.push(uint32(flags));
      } else if (a.isFlag) {
        if (a.type !== "true" && present(fields[name], a)) parts.push(this.writeArg(fields[name], a, o.className, name));
      } else {
        parts.push(this.writeArg(fields[name] ?? zero(a), a, o.className, name));
      }
    }
    return Buffer.concat(parts);
  }

  private writeArg(v: unknown, a: ArgConfig, owner: string, name: string): Buffer {
    if (!a.isVector) return this.writeScalar(v, a.type!, owner, name);
    const items = v as unknown[];
    const n = Buffer.allocUnsafe(4);
    n.writeInt32LE(items.length, 0);
    return Buffer.concat([...(a.useVectorId ? [uint32(VECTOR)] : []), n, ...items.map((x) => this.writeScalar(x, a.type!, owner, name))]);
  }

  private writeScalar(v: unknown, type: string, owner: string, name: string): Buffer {
    switch (type) {
      case "int":
      case "date": {
        const b = Buffer.allocUnsafe(4);
        b.writeInt32LE(v instanceof Date ? Math.floor(v.getTime() / 1000) : Number(v ?? 0), 0);
        return b;
      }
      case "long":
        return toSignedLittleBuffer(returnBigInt(BigInt(String(v ?? 0))), 8);
      case "int128":
        return toSignedLittleBuffer(v as never, 16);
      case "int256":
        return toSignedLittleBuffer(v as never, 32);
      case "double": {
        const b = Buffer.allocUnsafe(8);
        b.writeDoubleLE(Number(v ?? 0), 0);
        return b;
      }
      case "string":
      case "bytes":
        return serializeBytes(v ?? "");
      case "Bool":
        return uint32(v ? BOOL_TRUE : BOOL_FALSE);
      default:
        if (!v || typeof (v as TlObject).getBytes !== "function") {
          throw new Error(`cannot write ${owner}.${name} (${type}) for layer ${this.layer}: the sandbox has no value for it`);
        }
        return this.writeObject(v as TlObject);
    }
  }
}

/** Whether an optional field goes on the wire (gramjs's rule: false counts as absent except for Bool). */
function present(v: unknown, a: ArgConfig): boolean {
  if (v === undefined || v === null) return false;
  return !(v === false && a.type !== "Bool");
}

/** TL's zero value for a required field gramjs's object does not have. */
function zero(a: ArgConfig): unknown {
  if (a.isVector) return [];
  return ({ int: 0, date: 0, long: 0, double: 0, string: "", bytes: Buffer.alloc(0), Bool: false } as Record<string, unknown>)[a.type!];
}

function fullName(d: Definition): string {
  return d.namespace ? `${d.namespace}.${d.name}` : d.name;
}

// MTProto-level classes the sandbox sends with gramjs's classes; identical in every layer.
const MTPROTO_TYPES: Record<string, true> = { RpcError: true, RpcAnswerUnknown: true };

const warnedMissing = new Set<string>();
function warnMissing(layer: number, className: string): void {
  const key = `${layer}:${className}`;
  if (warnedMissing.has(key)) return;
  warnedMissing.add(key);
  console.warn(`[sandbox mtproto] layer ${layer} has no ${className}: sent in gramjs's layer ${GRAMJS_LAYER}`);
}

// ---- which layers the sandbox speaks ----

/** Layers with a schema file in sandbox/tl/, besides gramjs's own. */
const SCHEMA_FILES: Record<number, string> = {
  144: "layer-144.tl", // Telethon v1.25.1 (Debian's python3-telethon), telethon_generator/data/api.tl
  190: "layer-190.tl", // Telethon's main branch at 85c4a913, telethon_generator/data/api.tl
  221: "layer-221.tl", // @mtcute/tl 221.0.0's api-schema.json, via sandbox/tl/from-mtcute-json.ts
};

export const KNOWN_LAYERS: readonly number[] = [...new Set([GRAMJS_LAYER, ...Object.keys(SCHEMA_FILES).map(Number)])].sort((a, b) => a - b);

const codecs = new Map<number, LayerCodec>([[GRAMJS_LAYER, gramjsCodec]]);
const announced = new Set<number>();

/** gramjs's layer: what a connection speaks until it says invokeWithLayer. */
export const DEFAULT_CODEC = gramjsCodec;

/**
 * The codec for a client's layer: its own when the sandbox has a schema for it, else the nearest
 * lower one (the lowest for a layer below all), with one log line per layer.
 */
export function codecForLayer(requested: number): LayerCodec {
  const lower = KNOWN_LAYERS.filter((l) => l <= requested);
  const layer = lower.length ? lower[lower.length - 1]! : KNOWN_LAYERS[0]!;
  if (layer !== requested && !announced.has(requested)) {
    announced.add(requested);
    console.warn(`[sandbox mtproto] a client speaks layer ${requested}; the sandbox has schemas for ${KNOWN_LAYERS.join(", ")}: answering in layer ${layer}`);
  }
  let codec = codecs.get(layer);
  if (!codec) {
    const tl = readFileSync(new URL(`./tl/${SCHEMA_FILES[layer]}`, import.meta.url), "utf8");
    codecs.set(layer, (codec = new SchemaCodec(layer, tl)));
  }
  return codec;
}

/** invokeWithLayer#da9b0d0d layer:int query:!X: the layer a request body declares, if it is one. */
export function declaredLayer(body: Buffer): number | undefined {
  return body.length >= 8 && body.readUInt32LE(0) === 0xda9b0d0d ? body.readInt32LE(4) : undefined;
}
