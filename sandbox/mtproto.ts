// MTProto 2.0 front of the sandbox: a loopback TCP server that an unmodified gramjs client talks to.
// (stub: the real server follows)

import type { World } from "./world.ts";
import { SANDBOX_HOST, SANDBOX_MTPROTO_PORT } from "./defaults.ts";

export interface MtprotoServer {
  host: string;
  port: number;
  sessionFor(userId: number): string;
  stop(): Promise<void>;
}

export async function startMtproto(
  world: World,
  opts: {
    host?: string;
    port?: number /* 0 = ephemeral, default SANDBOX_MTPROTO_PORT */;
    floodWait?: { requestsPerSecond: number } | null;
    clockSkewMs?: number;
  } = {},
): Promise<MtprotoServer> {
  void world;
  const host = opts.host ?? SANDBOX_HOST;
  const port = opts.port ?? SANDBOX_MTPROTO_PORT;
  return {
    host,
    port,
    sessionFor() {
      throw new Error("mtproto sandbox: not implemented yet");
    },
    async stop() {},
  };
}
