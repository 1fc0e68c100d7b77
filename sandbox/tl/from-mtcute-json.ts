// Writes a layer's TL text from the JSON schema mtcute publishes (@mtcute/tl's api-schema.json):
//   bun sandbox/tl/from-mtcute-json.ts node_modules/@mtcute/tl/api-schema.json > sandbox/tl/layer-221.tl
// The sandbox reads only the .tl files; this is how layer-221.tl was made.

interface Arg {
  name: string;
  type: string;
  typeModifiers?: { predicate?: string; isVector?: boolean };
}
interface Entry {
  kind: "class" | "method";
  name: string;
  id: number;
  type: string;
  arguments?: Arg[];
  generics?: { name: string; type: string }[];
}

export function tlFromMtcuteJson(schema: { l: number; e: Entry[] }): string {
  const line = (e: Entry) => {
    const generics = (e.generics ?? []).map((g) => `{${g.name}:${g.type}}`);
    const args = (e.arguments ?? []).map((a) => {
      const base = a.type === "int53" ? "long" : a.type; // mtcute's name for ids that fit a JS number
      const type = a.typeModifiers?.isVector ? `Vector<${base}>` : base;
      return `${a.name}:${a.typeModifiers?.predicate ? `${a.typeModifiers.predicate}?` : ""}${type}`;
    });
    return [`${e.name}#${(e.id >>> 0).toString(16).padStart(8, "0")}`, ...generics, ...args, "=", `${e.type};`].join(" ");
  };
  const classes = schema.e.filter((e) => e.kind === "class").map(line);
  const methods = schema.e.filter((e) => e.kind === "method").map(line);
  return [...classes, "", "---functions---", "", ...methods, "", `// LAYER ${schema.l}`, ""].join("\n");
}

if (import.meta.main) {
  const path = process.argv[2];
  if (!path) {
    console.error("usage: bun sandbox/tl/from-mtcute-json.ts <api-schema.json>");
    process.exit(2);
  }
  process.stdout.write(tlFromMtcuteJson(await Bun.file(path).json()));
}
