/** The gateway in-process (app.handle): auth and guards need no sockets. */
import { describe, expect, test } from "bun:test";
import { parseConfigText, resolveConfig } from "../config/load.ts";
import { Router } from "../router/router.ts";
import { createApp } from "./app.ts";
import { presentedToken, tokenMatches } from "./guard.ts";

function app(toml: string) {
  const config = resolveConfig(parseConfigText(toml), { env: { ATRAD_HOME: "/tmp/x" } });
  return createApp({ config: () => config, router: new Router(config), version: "0.0.0", startedAt: Date.now() });
}
const req = (path: string, init: RequestInit & { headers?: Record<string, string> } = {}) =>
  new Request(`http://127.0.0.1:8040${path}`, { ...init, headers: { host: "127.0.0.1:8040", ...init.headers } });

describe("auth", () => {
  const withTokens = app(`[server]\nauth_tokens = ["s3cret-token"]\n`);
  const body = JSON.stringify({ model: "m", max_tokens: 1, messages: [] });

  test.each([
    ["no key", {}, 401],
    ["wrong key", { "x-api-key": "nope" }, 401],
    ["wrong bearer", { authorization: "Bearer nope" }, 401],
  ])("Tokens_%s → 401 envelope", async (_n, headers, status) => {
    const res = await withTokens.handle(req("/v1/messages", { method: "POST", body, headers }));
    expect(res.status).toBe(status);
    expect(((await res.json()) as any).error.type).toBe("authentication_error");
  });

  test.each([
    ["x-api-key", { "x-api-key": "s3cret-token" }],
    ["bearer", { authorization: "Bearer s3cret-token" }],
  ])("Tokens_%s accepted (reaches validation)", async (_n, headers) => {
    const res = await withTokens.handle(req("/v1/messages/count_tokens", { method: "POST", body: JSON.stringify({ model: "m", messages: [] }), headers }));
    expect(res.status).toBe(200);
  });

  test("Health stays open for liveness probes", async () => {
    expect((await withTokens.handle(req("/health"))).status).toBe(200);
  });

  test("Admin status is behind the tokens", async () => {
    expect((await withTokens.handle(req("/atrad/status"))).status).toBe(401);
  });

  test("NoTokens_LoopbackOpen", async () => {
    expect((await app("").handle(req("/v1/models"))).status).toBe(200);
  });
});

describe("browser guards", () => {
  test("CrossOrigin_Rejected", async () => {
    const res = await app("").handle(req("/v1/models", { headers: { origin: "https://evil.example" } }));
    expect(res.status).toBe(403);
  });
  test("ConfiguredOrigin_Allowed", async () => {
    const res = await app(`[server]\nallowed_origins = ["http://localhost:3000"]\n`).handle(req("/v1/models", { headers: { origin: "http://localhost:3000" } }));
    expect(res.status).toBe(200);
  });
});

describe("guard helpers", () => {
  test("presentedToken prefers x-api-key, accepts Bearer", () => {
    expect(presentedToken(new Headers({ "x-api-key": "a", authorization: "Bearer b" }))).toBe("a");
    expect(presentedToken(new Headers({ authorization: "bearer  b " }))).toBe("b");
    expect(presentedToken(new Headers())).toBeUndefined();
  });
  test("tokenMatches compares whole tokens", () => {
    expect(tokenMatches("abc", ["abc", "def"])).toBe(true);
    expect(tokenMatches("ab", ["abc"])).toBe(false);
  });
});

describe("requests refused before routing are Anthropic envelopes", () => {
  const gateway = app("");
  const simple = { model: "claude-opus-5-5", max_tokens: 50, messages: [{ role: "user", content: "hi" }] };
  const post = (body: unknown, headers: Record<string, string> = {}) => ({
    method: "POST",
    body: typeof body === "string" ? body : JSON.stringify(body),
    headers: { "content-type": "application/json", "anthropic-version": "2023-06-01", ...headers },
  });
  test.each([
    { name: "malformed JSON → 400", path: "/v1/messages", init: post("{nope"), status: 400, type: "invalid_request_error", says: "not valid JSON" },
    { name: "a missing field → 400 naming it (never 422)", path: "/v1/messages", init: post({ model: "x", messages: [] }), status: 400, type: "invalid_request_error", says: "max_tokens" },
    { name: "a bad value → 400 naming its path", path: "/v1/messages", init: post({ ...simple, messages: [{ role: "robot", content: "x" }] }), status: 400, type: "invalid_request_error", says: "messages.0.role" },
    { name: "empty body → 400", path: "/v1/messages", init: post(""), status: 400, type: "invalid_request_error", says: "" },
    { name: "unknown path → 404", path: "/v2/whatever", init: {}, status: 404, type: "not_found_error", says: "" },
    { name: "foreign Host → 403 (DNS rebinding guard)", path: "/v1/messages", init: post(simple, { host: "evil.example" }), status: 403, type: "permission_error", says: "" },
  ])("$name", async ({ path, init, status, type, says }) => {
    const res = await gateway.handle(req(path, init));
    expect(res.status).toBe(status);
    const body: any = await res.json();
    expect(body).toEqual({ type: "error", error: { type, message: expect.any(String) } });
    expect(body.error.message).toContain(says);
  });
});
