// Preloaded by bunfig.toml for every test file.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { setDefaultTimeout } from "bun:test";

// `bun test` on a fresh clone: install the locked dependencies first (as `bun run` does by itself).
const root = join(import.meta.dir, "..");
if (!existsSync(join(root, "node_modules", "gramio"))) {
  console.error("node_modules is missing: running `bun install --frozen-lockfile` first");
  const r = Bun.spawnSync(["bun", "install", "--frozen-lockfile"], { cwd: root, stdout: "inherit", stderr: "inherit" });
  if (r.exitCode !== 0) throw new Error("bun install failed: run it yourself and look at its output");
  // This process has already looked for node_modules and will not see the new one: run the same
  // command again (process.argv lacks `test` and its flags; /proc has the whole command line).
  const args = existsSync("/proc/self/cmdline") ? readFileSync("/proc/self/cmdline", "utf8").split("\0").filter(Boolean).slice(1) : ["test"];
  const again = Bun.spawnSync([process.execPath, ...args], { cwd: process.cwd(), stdio: ["inherit", "inherit", "inherit"] });
  process.exit(again.exitCode ?? 1);
}

// Bun 1.4 applies a preload's setDefaultTimeout to the first test file only (and ignores bunfig's
// `timeout`), so each integration file sets its own 30 s; this covers whichever file runs first.
setDefaultTimeout(30_000);
