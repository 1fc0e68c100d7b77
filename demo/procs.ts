// Child processes for the demo and the benchmark: output read line by line (to wait for "ready"
// lines and to show progress), and every child stopped when we exit, on Ctrl+C or on SIGTERM.
// None of our children start processes of their own, so stopping each child by its pid is enough.

import type { Subprocess } from "bun";

const live = new Set<Child>();
const exitTasks: (() => void)[] = [];
let hooked = false;

/** Runs `fn` (synchronous: e.g. removing a temp dir) when the process exits, however it exits. */
export function atExit(fn: () => void): void {
  hookExit();
  exitTasks.push(fn);
}

function hookExit(): void {
  if (hooked) return;
  hooked = true;
  const onSignal = (sig: NodeJS.Signals, code: number) => {
    process.stderr.write(`\n${sig}: stopping ${live.size} child process(es)\n`);
    void Promise.allSettled([...live].map((c) => c.stop())).then(() => process.exit(code));
  };
  process.on("SIGINT", () => onSignal("SIGINT", 130));
  process.on("SIGTERM", () => onSignal("SIGTERM", 143));
  // Last resort (an exception, process.exit elsewhere): no child outlives us.
  process.on("exit", () => {
    for (const c of live) c.kill("SIGKILL");
    for (const f of exitTasks.splice(0)) {
      try {
        f();
      } catch {
        // exiting: nothing left to report to
      }
    }
  });
}

export interface ChildOptions {
  cwd: string;
  env?: Record<string, string | undefined>;
  /** Called with every line the child prints (stdout and stderr). */
  onLine?: (line: string, stream: "stdout" | "stderr") => void;
}

export class Child {
  readonly lines: string[] = [];
  readonly proc: Subprocess<"ignore", "pipe", "pipe">;
  readonly exited: Promise<number>;
  private readonly watchers = new Set<(line: string) => void>();

  constructor(
    readonly name: string,
    cmd: string[],
    private readonly o: ChildOptions,
  ) {
    hookExit();
    this.proc = Bun.spawn(cmd, { cwd: o.cwd, env: { ...process.env, ...o.env }, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
    live.add(this);
    const out = this.read(this.proc.stdout, "stdout");
    const err = this.read(this.proc.stderr, "stderr");
    this.exited = this.proc.exited.then(async (code) => {
      live.delete(this);
      await Promise.allSettled([out, err]);
      return code;
    });
  }

  get pid(): number {
    return this.proc.pid;
  }

  private async read(stream: ReadableStream<Uint8Array>, name: "stdout" | "stderr"): Promise<void> {
    const dec = new TextDecoder();
    let buf = "";
    for await (const chunk of stream) {
      buf += dec.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        this.line(buf.slice(0, nl), name);
        buf = buf.slice(nl + 1);
      }
    }
    if (buf) this.line(buf, name);
  }

  private line(line: string, stream: "stdout" | "stderr"): void {
    this.lines.push(line);
    this.o.onLine?.(line, stream);
    for (const w of [...this.watchers]) w(line);
  }

  /** The first line (already printed or still to come) that matches; rejects if the child exits first. */
  waitFor(re: RegExp, timeoutMs: number): Promise<string> {
    const seen = this.lines.find((l) => re.test(l));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise<string>((resolve, reject) => {
      const done = (f: () => void) => {
        clearTimeout(timer);
        this.watchers.delete(watch);
        f();
      };
      const watch = (l: string) => {
        if (re.test(l)) done(() => resolve(l));
      };
      const timer = setTimeout(() => done(() => reject(new Error(`${this.name}: no line matching ${re} within ${timeoutMs} ms`))), timeoutMs);
      this.watchers.add(watch);
      void this.exited.then((code) => done(() => reject(new Error(`${this.name} exited with code ${code} before printing a line matching ${re}:\n${this.tail()}`))));
    });
  }

  /** The last lines it printed, for error messages. */
  tail(n = 15): string {
    return this.lines.slice(-n).map((l) => `  ${this.name}| ${l}`).join("\n");
  }

  kill(signal: NodeJS.Signals = "SIGTERM"): void {
    if (this.proc.exitCode === null && !this.proc.killed) this.proc.kill(signal);
  }

  /** SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    if (this.proc.exitCode !== null) return;
    this.kill("SIGTERM");
    const t = setTimeout(() => this.kill("SIGKILL"), graceMs);
    await this.exited;
    clearTimeout(t);
  }
}
