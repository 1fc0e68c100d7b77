// --login's prompts: answers are read (the old ask() rejected every answer with "input closed"),
// hidden answers are not echoed, and an input that ends stops the login with one clear message
// instead of gramjs asking again forever. Driven through gramjs's own sign-in loop.

import { describe, expect, test } from "bun:test";
import { PassThrough } from "node:stream";
import { Api } from "telegram";
import { signInUser } from "telegram/client/auth";
import { parseClientConfig } from "../../lib/client/config.ts";
import type { Readable, Writable } from "node:stream";
import { createPrompter, InputClosedError, loginParams, MAX_LOGIN_ERRORS } from "../../lib/client/login.ts";

async function ask(question: string, hidden: boolean, input: Readable, output: Writable): Promise<string> {
  const p = createPrompter(input, output);
  try {
    return await p.ask(question, hidden);
  } finally {
    p.close();
  }
}

function streams() {
  const input = new PassThrough();
  const output = new PassThrough();
  let written = "";
  output.on("data", (d) => (written += d.toString()));
  return { input, output, written: () => written };
}

describe("ask", () => {
  test("resolves with the typed answer, trimmed", async () => {
    const s = streams();
    const answer = ask("Phone: ", false, s.input, s.output);
    s.input.write("  +79991234567 \n");
    expect(await answer).toBe("+79991234567");
    expect(s.written()).toBe("Phone: ");
  });

  test("a hidden answer is read and never written to the output", async () => {
    const s = streams();
    const answer = ask("Code (not shown): ", true, s.input, s.output);
    s.input.write("12345\n");
    expect(await answer).toBe("12345");
    expect(s.written()).toBe("Code (not shown): \n");
    expect(s.written()).not.toContain("12345");
  });

  test("EOF before an answer rejects with InputClosedError", async () => {
    const s = streams();
    const answer = ask("Phone: ", false, s.input, s.output);
    s.input.end();
    await expect(answer).rejects.toBeInstanceOf(InputClosedError);
  });

  test("one prompter keeps lines piped in together for the next questions", async () => {
    const s = streams();
    const p = createPrompter(s.input, s.output);
    s.input.write("+7999\n12345\n");
    s.input.end("secret\n");
    expect(await p.ask("Phone: ")).toBe("+7999");
    expect(await p.ask("Code: ", true)).toBe("12345");
    expect(await p.ask("Password: ", true)).toBe("secret");
    await expect(p.ask("More: ")).rejects.toBeInstanceOf(InputClosedError);
    p.close();
    expect(s.written()).not.toContain("12345");
    expect(s.written()).not.toContain("secret");
  });
});

const CFG = parseClientConfig(`telegram:\n  api_id: 12345678\n  api_hash: "0123456789abcdef0123456789abcdef"\ntargets:\n  - cities: [a]\n    priority: 1\n`, "config.yaml");

/** A stand-in for TelegramClient with only what gramjs's signInUser calls. */
function fakeClient(signIn: (code: string) => unknown) {
  const calls = { sendCode: 0, signIn: 0 };
  const client = {
    sendCode: async () => {
      calls.sendCode++;
      return { phoneCodeHash: "hash", isCodeViaApp: true };
    },
    invoke: async (req: unknown) => {
      if (req instanceof Api.auth.SignIn) {
        calls.signIn++;
        return signIn(req.phoneCode!);
      }
      throw new Error(`unexpected request ${(req as { className?: string }).className}`);
    },
  };
  return { client: client as never, calls };
}

function withTimeout<T>(p: Promise<T>, ms = 2000): Promise<T> {
  return Promise.race([p, Bun.sleep(ms).then(() => Promise.reject(new Error(`no answer in ${ms} ms: the login loops`)))]);
}

describe("login through gramjs's sign-in loop", () => {
  test("phone and code typed: signs in with that code", async () => {
    const s = streams();
    const lines: string[] = [];
    const { params, cancelled } = loginParams(CFG, (l) => lines.push(l), createPrompter(s.input, s.output));
    const user = new Api.User({ id: 42n as never, firstName: "me" });
    const { client, calls } = fakeClient((code) => {
      expect(code).toBe("24680");
      return new Api.auth.Authorization({ user });
    });
    s.input.write("+79991234567\n24680\n");
    expect(await withTimeout(signInUser(client, { apiId: 1, apiHash: "x" }, params))).toBe(user);
    expect(calls).toEqual({ sendCode: 1, signIn: 1 });
    expect(cancelled()).toBeUndefined();
    expect(lines).toEqual([]);
    expect(s.written()).not.toContain("24680");
  });

  test("EOF at the code prompt: stops at once with a clear reason, no loop", async () => {
    const s = streams();
    const lines: string[] = [];
    const { params, cancelled } = loginParams(CFG, (l) => lines.push(l), createPrompter(s.input, s.output));
    const { client, calls } = fakeClient(() => {
      throw new Error("must not sign in");
    });
    s.input.end("+79991234567\n");
    await expect(withTimeout(signInUser(client, { apiId: 1, apiHash: "x" }, params))).rejects.toThrow("AUTH_USER_CANCEL");
    expect(cancelled()).toBe("the input ended before the login code was entered");
    expect(calls.signIn).toBe(0);
    expect(lines).toEqual([]); // no "login: input closed" / "Code is empty" lines
    expect(s.written().match(/Login code/g)).toHaveLength(1);
  });

  test("EOF at the phone prompt: stops before sending a code", async () => {
    const s = streams();
    const { params, cancelled } = loginParams(CFG, () => {}, createPrompter(s.input, s.output));
    const { client, calls } = fakeClient(() => null);
    s.input.end();
    await expect(withTimeout(signInUser(client, { apiId: 1, apiHash: "x" }, params))).rejects.toThrow("AUTH_USER_CANCEL");
    expect(cancelled()).toBe("the input ended before the phone number was entered");
    expect(calls.sendCode).toBe(0);
  });

  test("a wrong code asks again; too many wrong codes stop", async () => {
    const s = streams();
    const lines: string[] = [];
    const { params, cancelled } = loginParams(CFG, (l) => lines.push(l), createPrompter(s.input, s.output));
    const { client, calls } = fakeClient(() => {
      throw Object.assign(new Error("400: PHONE_CODE_INVALID (caused by auth.SignIn)"), { errorMessage: "PHONE_CODE_INVALID" });
    });
    s.input.write("+79991234567\n" + "11111\n".repeat(10));
    await expect(withTimeout(signInUser(client, { apiId: 1, apiHash: "x" }, params))).rejects.toThrow("AUTH_USER_CANCEL");
    expect(calls.signIn).toBe(MAX_LOGIN_ERRORS);
    expect(cancelled()).toBe(`${MAX_LOGIN_ERRORS} failed attempts in a row`);
    expect(lines[0]).toBe("login: 400: PHONE_CODE_INVALID (caused by auth.SignIn)");
  });

  test("an expired code stops at once (asking again cannot help)", async () => {
    const s = streams();
    const { params, cancelled } = loginParams(CFG, () => {}, createPrompter(s.input, s.output));
    const { client, calls } = fakeClient(() => {
      throw Object.assign(new Error("400: PHONE_CODE_EXPIRED (caused by auth.SignIn)"), { errorMessage: "PHONE_CODE_EXPIRED" });
    });
    s.input.write("+79991234567\n11111\n");
    await expect(withTimeout(signInUser(client, { apiId: 1, apiHash: "x" }, params))).rejects.toThrow("AUTH_USER_CANCEL");
    expect(calls.signIn).toBe(1);
    expect(cancelled()).toMatch(/PHONE_CODE_EXPIRED/);
  });
});
