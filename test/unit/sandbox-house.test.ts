// The sandbox is its own house: it imports nothing from lib/ (nor lib/ from it), and importing it
// reads no environment variable (ports and URLs are read when a sandbox starts or a CLI runs).

import { describe, expect, test } from "bun:test";
import { dirname, join, relative, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "../..");
/** Files that run when imported (command lines): not imported by the env check. */
const ENTRYPOINTS = new Set(["sandbox/main.ts", "sandbox/cli.ts", "sandbox/overhead.ts"]);
function tsFiles(dir: string): string[] {
  return [...new Bun.Glob(`${dir}/**/*.ts`).scanSync({ cwd: ROOT })].sort();
}

/** Relative module specifiers of a file (static imports, re-exports, dynamic imports, require). */
async function relativeImports(file: string): Promise<string[]> {
  const src = await Bun.file(join(ROOT, file)).text();
  const specs = [...src.matchAll(/(?:from\s+|import\s*\(\s*|import\s+|require\s*\(\s*)["'](\.{1,2}\/[^"']+)["']/g)].map((m) => m[1]!);
  return specs.map((s) => relative(ROOT, resolve(ROOT, dirname(file), s)));
}

async function importsInto(fromDir: string, intoDir: string): Promise<string[]> {
  const bad: string[] = [];
  for (const f of tsFiles(fromDir)) {
    for (const target of await relativeImports(f)) if (target.startsWith(`${intoDir}/`)) bad.push(`${f} -> ${target}`);
  }
  return bad;
}

describe("sandbox/ and lib/ are separate houses", () => {
  test("no file under sandbox/ imports anything outside sandbox/ (packages are fine)", async () => {
    const bad: string[] = [];
    for (const f of tsFiles("sandbox")) {
      for (const target of await relativeImports(f)) if (!target.startsWith("sandbox/")) bad.push(`${f} -> ${target}`);
    }
    expect(bad).toEqual([]);
  });

  test("no file under lib/ imports sandbox/", async () => {
    expect(await importsInto("lib", "sandbox")).toEqual([]);
  });

  test("importing the sandbox's modules reads no SANDBOX_* environment variable", async () => {
    // The server side: sandbox/*.ts and what they import (sandbox/web/ is partly browser code).
    const modules = tsFiles("sandbox").filter((f) => !ENTRYPOINTS.has(f) && !f.slice("sandbox/".length).includes("/"));
    const probe = `
      const reads = new Set();
      process.env = new Proxy(process.env, { get(t, k) { if (typeof k === "string") reads.add(k); return Reflect.get(t, k); } });
      for (const m of ${JSON.stringify(modules.map((m) => join(ROOT, m)))}) await import(m);
      console.log(JSON.stringify([...reads]));`;
    const proc = Bun.spawn(["bun", "-e", probe], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
    const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    expect({ code, err: code ? err : "" }).toEqual({ code: 0, err: "" });
    const reads = JSON.parse(out.trim().split("\n").at(-1)!) as string[];
    expect(modules.length).toBeGreaterThan(5);
    expect(reads.filter((k) => k.startsWith("SANDBOX_"))).toEqual([]);
  });
});
