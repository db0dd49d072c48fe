/**
 * Who gets in, and what a client can do to the gateway's sockets: tokens (x-api-key or Bearer,
 * on every path but the liveness probes), foreign Host and Origin refused, CORS only for a
 * configured origin, size and depth limits, oversized headers, and slow clients.
 */
import { describe, expect, test } from "bun:test";
import { startCounting } from "../standins/counting.ts";
import { providerToml } from "../support/daemon.ts";
import { atradInFrontOf } from "../support/gateway.ts";
import { until } from "./support.ts";

const TOKEN = "s3cret-token-for-tests-0123456789";
const { up, atrad } = await atradInFrontOf({ up: startCounting("up") }, ({ up }) => `
[server]
auth_tokens = ["${TOKEN}", "second-token"]
allowed_origins = ["https://ok.example"]
allowed_hosts = ["atrad.lan"]
max_body_mb = 0.05
idle_timeout_s = 1
${providerToml("up", "anthropic", up.url, 'models = ["m"]')}
[routes]
default = ["up/m"]
`);
const port = Number(new URL(atrad.url).port);

const body = JSON.stringify({ model: "up/m", max_tokens: 8, messages: [{ role: "user", content: "hi" }] });
const post = (path: string, headers: Record<string, string>, b: string = body) => fetch(`${atrad.url}${path}`, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: b });

async function envelope(res: Response, status: number, type: string) {
  expect(res.status).toBe(status);
  const j = (await res.json()) as any;
  expect(j.type).toBe("error");
  expect(j.error.type).toBe(type);
  return j.error.message as string;
}

/** One raw HTTP/1.1 exchange, for headers fetch will not send as given (Host). */
async function raw(request: string, timeoutMs = 5000): Promise<string> {
  let out = "";
  let done!: () => void;
  const closed = new Promise<void>((r) => (done = r));
  const sock = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data(_s, d) { out += d.toString(); }, close() { done(); }, error() { done(); } } });
  sock.write(request);
  await Promise.race([closed, Bun.sleep(timeoutMs)]);
  sock.end();
  return out;
}

describe("auth tokens", () => {
  test("missing or wrong tokens are refused on the API, admin and metrics paths", async () => {
    for (const [method, path] of [["POST", "/v1/messages"], ["POST", "/v1/messages/count_tokens"], ["GET", "/v1/models"], ["GET", "/atrad/status"], ["GET", "/atrad/requests"], ["POST", "/atrad/reload"], ["GET", "/metrics"], ["GET", "/atrad/sessions/x"]]) {
      for (const headers of <Array<Record<string, string>>>[{}, { "x-api-key": "wrong" }, { authorization: "Bearer wrong" }, { authorization: TOKEN }, { "x-api-key": `${TOKEN}x` }, { "x-api-key": TOKEN.slice(0, -1) }]) {
        const res = await fetch(`${atrad.url}${path}`, { method, headers: { "content-type": "application/json", ...headers }, body: method === "POST" ? body : undefined });
        await envelope(res, 401, "authentication_error");
      }
    }
    expect(up.hits).toBe(0);
  });

  test("the right token works as x-api-key or Bearer (either of several)", async () => {
    expect((await post("/v1/messages", { "x-api-key": TOKEN })).status).toBe(200);
    expect((await post("/v1/messages", { authorization: `Bearer ${TOKEN}` })).status).toBe(200);
    expect((await post("/v1/messages", { authorization: "bearer second-token" })).status).toBe(200);
    expect((await fetch(`${atrad.url}/metrics`, { headers: { "x-api-key": TOKEN } })).status).toBe(200);
    expect((await fetch(`${atrad.url}/atrad/status`, { headers: { "x-api-key": TOKEN } })).status).toBe(200);
  });

  test("liveness probes stay open (Claude Code sends HEAD / before it has a key)", async () => {
    expect((await fetch(`${atrad.url}/health`)).status).toBe(200);
    expect((await fetch(`${atrad.url}/`, { method: "HEAD" })).status).toBe(200);
    expect((await fetch(`${atrad.url}/api/hello`, { method: "HEAD" })).status).toBe(200);
  });
});

describe("browser and DNS-rebinding protection", () => {
  test("a foreign Host gets a 403 envelope; loopback names and configured names pass", async () => {
    for (const host of ["evil.example", "evil.example:8040", "127.0.0.1.evil.example", "localhost.evil.example", "[::2]"]) {
      const res = await raw(`GET /v1/models HTTP/1.1\r\nHost: ${host}\r\nx-api-key: ${TOKEN}\r\nconnection: close\r\n\r\n`);
      expect(res, host).toStartWith("HTTP/1.1 403");
      expect(res).toContain('"permission_error"');
    }
    for (const host of ["localhost", `127.0.0.1:${port}`, "[::1]:8040", "atrad.lan", "ATRAD.LAN:8040"]) {
      const res = await raw(`GET /v1/models HTTP/1.1\r\nHost: ${host}\r\nx-api-key: ${TOKEN}\r\nconnection: close\r\n\r\n`);
      expect(res, host).toStartWith("HTTP/1.1 200");
    }
  });

  test("cross-origin requests are refused unless the origin is configured", async () => {
    for (const origin of ["https://evil.example", "null", "http://localhost:3000"]) {
      const msg = await envelope(await post("/v1/messages", { "x-api-key": TOKEN, origin }), 403, "permission_error");
      expect(msg).toContain("allowed_origins");
    }
    // Even the preflight of an unlisted origin is refused, so a browser never sends the request.
    await envelope(await fetch(`${atrad.url}/v1/messages`, { method: "OPTIONS", headers: { origin: "https://evil.example", "access-control-request-method": "POST" } }), 403, "permission_error");
    expect(up.hits).toBe(2 + 1);
  });

  test("a configured origin gets a CORS preflight answer and the allow-origin header", async () => {
    const pre = await fetch(`${atrad.url}/v1/messages`, { method: "OPTIONS", headers: { origin: "https://ok.example", "access-control-request-method": "POST", "access-control-request-headers": "content-type, x-api-key" } });
    expect(pre.status).toBe(204);
    expect(pre.headers.get("access-control-allow-origin")).toBe("https://ok.example");
    expect(pre.headers.get("access-control-allow-headers")).toContain("x-api-key");
    const res = await post("/v1/messages", { "x-api-key": TOKEN, origin: "https://ok.example" });
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBe("https://ok.example");
    // The token is still required for the real request.
    await envelope(await post("/v1/messages", { origin: "https://ok.example" }), 401, "authentication_error");
  });
});

describe("limits", () => {
  const auth = { "x-api-key": TOKEN };
  test("a body over max_body_mb is a 413 envelope, declared or chunked", async () => {
    const big = JSON.stringify({ model: "up/m", max_tokens: 8, messages: [{ role: "user", content: "x".repeat(100_000) }] });
    await envelope(await post("/v1/messages", auth, big), 413, "request_too_large");
    const chunked = new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode(big)); c.close(); } });
    const res = await fetch(`${atrad.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json", ...auth }, body: chunked });
    expect([413]).toContain(res.status);
  });

  test("JSON nested deeper than 64 levels is a 400, not a stack overflow", async () => {
    const deep = `{"model":"up/m","max_tokens":8,"messages":[{"role":"user","content":"hi"}],"metadata":{"x":${"[".repeat(5000)}${"]".repeat(5000)}}}`;
    const msg = await envelope(await post("/v1/messages", auth, deep), 400, "invalid_request_error");
    expect(msg).toContain("nests deeper");
  });

  test("oversized headers are refused with a 4xx and the server keeps serving", async () => {
    const res = await fetch(`${atrad.url}/health`, { headers: { "x-big": "a".repeat(200_000) } }).catch(() => null);
    if (res) expect(res.status).toBeGreaterThanOrEqual(400);
    if (res) expect(res.status).toBeLessThan(500);
    expect((await fetch(`${atrad.url}/health`)).status).toBe(200);
  });
});

// The two wait out server timers on sockets of their own: side by side, not one after the other.
describe.concurrent("slow clients", () => {
  test("slowloris sockets do not stop other clients, and silent ones are closed within the idle timeout", async () => {
    const N = 150;
    const closedAt: number[] = [];
    const t0 = Date.now();
    const socks = await Promise.all(
      Array.from({ length: N }, async (_, i) => {
        const s = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {}, close() { closedAt.push(Date.now() - t0); } } });
        // A third send half a request line, a third half the headers, a third headers and part of a body.
        s.write(i % 3 === 0 ? "POST /v1/mess" : i % 3 === 1 ? `POST /v1/messages HTTP/1.1\r\nHost: localhost\r\nx-api-key: ${TOKEN}\r\n` : `POST /v1/messages HTTP/1.1\r\nHost: localhost\r\nx-api-key: ${TOKEN}\r\ncontent-type: application/json\r\ncontent-length: 500\r\n\r\n{"model":`);
        return s;
      }),
    );
    // Meanwhile real clients are served.
    for (let i = 0; i < 20; i++) {
      const res = await post("/v1/messages", { "x-api-key": TOKEN });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
    // Silent slow sockets are closed by the server: generous bound (idle_timeout_s = 1, and
    // the server checks socket timeouts on a coarse tick).
    await until(`all ${N} slow sockets to be closed`, () => closedAt.length === N, 30_000, 100);
    for (const s of socks) s.end();
    console.log(`slowloris: ${N} sockets closed by the server after ${Math.min(...closedAt)}–${Math.max(...closedAt)} ms`);
  }, 45_000);

  test("a kept-alive connection goes back under the idle timeout once its request is answered", async () => {
    let closed = 0;
    const t0 = Date.now();
    const s = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {}, close() { closed = Date.now() - t0; } } });
    s.write(`POST /v1/messages HTTP/1.1\r\nHost: localhost\r\nx-api-key: ${TOKEN}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    await until("the idle connection to be closed by the server", () => closed > 0, 20_000, 100);
    // Not at once: the answer was written and the connection kept for the idle timeout (1 s).
    expect(closed).toBeGreaterThan(500);
    console.log(`kept-alive connection closed after ${closed} ms`);
  }, 30_000);
});
