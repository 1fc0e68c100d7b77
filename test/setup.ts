// Preloaded by bunfig.toml for every test file.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { setDefaultTimeout } from "bun:test";

// `bun test` on a fresh clone: install the locked dependencies first (as `bun run` does by itself).
const root = join(import.meta.dir, "..");
if (!existsSync(join(root, "node_modules", "gramio"))) {
  console.error("node_modules is missing: running `bun install --frozen-lockfile` first");
  const r = Bun.spawnSync(["bun", "install", "--frozen-lockfile"], { cwd: root, stdout: "inherit", stderr: "inherit" });
  if (r.exitCode !== 0) throw new Error("bun install failed: run it yourself and look at its output");
}

setDefaultTimeout(30_000);
