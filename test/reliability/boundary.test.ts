/**
 * What a client can send at the boundary, over a real socket: model names that are not
 * printable text, or too long; bodies past the limit; malformed request lines, headers and
 * paths; pipelined requests. Every answer is atrad's envelope with a `request-id`, never a 500,
 * never a closed socket; and nothing of it costs a provider its concurrency slot.
 */
import { describe, expect, test } from "bun:test";
import { connect } from "node:net";
import { startFaulty } from "../standins/faulty.ts";
import { providerToml } from "../support/daemon.ts";
import { atradInFrontOf } from "../support/gateway.ts";
import { noDefaultServices } from "../support/services.ts";

const ONE_SLOT = "max_concurrency = 1\nqueue_timeout_s = 5";
// One slot: a request that leaked it would leave every later request of `f` waiting.
// `g` routes to a model whose name (as a provider could report it) no header may carry raw.
// `p` is a second one-slot provider, so the two pipelining cases can run side by side.
const { faulty, atrad } = await atradInFrontOf({ faulty: startFaulty() }, ({ faulty }) => `
[server]
max_body_mb = 4
idle_timeout_s = 1
${providerToml("f", "openai", faulty.url, `models = ["ok", "slow"]\n${ONE_SLOT}`)}
${providerToml("g", "openai", faulty.url, `models = ["ok\\u2028x\\u0000y"]\n${ONE_SLOT}`)}
${providerToml("p", "openai", faulty.url, `models = ["ok", "slow"]\n${ONE_SLOT}`)}
[routes]
default = ["f/ok"]
aliases = { odd = ["g/ok\\u2028x\\u0000y"] }
${noDefaultServices()}`);
const port = Number(new URL(atrad.url).port);

const ask = (model: string, extra: Record<string, unknown> = {}) => JSON.stringify({ model, max_tokens: 8, messages: [{ role: "user", content: "hi" }], ...extra });
const post = (body: string, path = "/v1/messages") => fetch(`${atrad.url}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body });

async function envelope(res: Response) {
  const body = (await res.json()) as { type: string; error: { type: string; message: string } };
  expect(body.type).toBe("error");
  expect(res.headers.get("request-id")).toStartWith("req_");
  return body.error;
}

/** Send raw bytes; collect everything the server sends until it closes or `ms` pass. */
function raw(payload: string | Buffer, ms = 3000): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, "127.0.0.1");
    let out = "";
    const timer = setTimeout(() => s.destroy(), ms);
    s.on("data", (d) => (out += d.toString("latin1")));
    s.on("close", () => {
      clearTimeout(timer);
      resolve(out);
    });
    s.on("error", () => {});
    s.write(payload);
  });
}
/** Pipelined answers follow each other's bodies directly: a status line need not start a line. */
const statusLines = (text: string) => [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
const httpPost = (body: string, path = "/v1/messages") => `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

describe("model names are checked at the boundary", () => {
  test.each([
    ["a NUL byte", "f/ok\u0000", "U+0000"],
    ["a line separator", "f/ok\u2028", "U+2028"],
    ["a newline", "f/ok\nx", "U+000A"],
    ["a bidi override", "f/\u202eko", "U+202E"],
  ])("Model with %s → 400 naming it, and the 1-slot provider still serves the next request", async (_name, model, code) => {
    for (const stream of [false, true]) {
      const res = await post(ask(model, { stream }));
      expect(res.status).toBe(400);
      const e = await envelope(res);
      expect(e.type).toBe("invalid_request_error");
      expect(e.message).toContain(code);
      const next = await post(ask("f/ok", { stream }));
      expect(next.status).toBe(200);
      await next.arrayBuffer();
    }
  });

  test("a 1 MB model name → 400 that echoes nothing of it in a header", async () => {
    const res = await post(ask(`f/${"m".repeat(1024 * 1024)}`));
    expect(res.status).toBe(400);
    let headerBytes = 0;
    res.headers.forEach((v, k) => (headerBytes += k.length + v.length));
    expect(headerBytes).toBeLessThan(1024);
    expect((await envelope(res)).message).toContain("at most 256");
  });

  test("count_tokens checks the same way", async () => {
    const res = await post(JSON.stringify({ model: "x\u0000", messages: [{ role: "user", content: "hi" }] }), "/v1/messages/count_tokens");
    expect(res.status).toBe(400);
    expect((await envelope(res)).message).toContain("U+0000");
  });

  test("a target whose model a header cannot carry raw is encoded, and its 1-slot provider keeps serving", async () => {
    for (let i = 0; i < 3; i++) {
      for (const stream of [false, true]) {
        const res = await post(ask("odd", { stream }));
        expect(res.status).toBe(200);
        expect(res.headers.get("x-atrad-target")).toBe("g/ok%E2%80%A8x%00y");
        await res.arrayBuffer();
      }
    }
    expect(atrad.router.limiter("g")!.inFlight).toBe(0);
  });
});

describe("runtime-level rejections are atrad's envelopes", () => {
  test("a 40 MB body → 413 request_too_large envelope (limit 4 MB)", async () => {
    const res = await post("x".repeat(40 * 1024 * 1024));
    expect(res.status).toBe(413);
    const e = await envelope(res);
    expect(e.type).toBe("request_too_large");
    expect(e.message).toContain("max_body_mb");
  });

  test("a chunked body past the limit → 413 envelope", async () => {
    const big = new ReadableStream({
      start(c) {
        for (let i = 0; i < 8; i++) c.enqueue(new Uint8Array(1024 * 1024));
        c.close();
      },
    });
    const res = await fetch(`${atrad.url}/v1/messages`, { method: "POST", body: big, duplex: "half" } as RequestInit);
    expect(res.status).toBe(413);
    expect((await envelope(res)).type).toBe("request_too_large");
  });

  test.each([
    ["CONNECT", "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n", 405],
    ["a malformed request line", "GARBAGE\r\n\r\n", 400],
    ["an unknown HTTP version", "GET /health HTTP/3.7\r\nHost: 127.0.0.1\r\n\r\n", 505],
    ["headers over 16 KB", `GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nx-big: ${"a".repeat(64 * 1024)}\r\n\r\n`, 431],
    ["an asterisk target", "OPTIONS * HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 400],
    ["HTTP/1.1 without Host", "GET /health HTTP/1.1\r\nconnection: close\r\n\r\n", 400],
    ["a malformed %-escape in /v1/models/{id}", "GET /v1/models/%E0%A4%A HTTP/1.1\r\nHost: 127.0.0.1\r\nconnection: close\r\n\r\n", 400],
  ])("%s → its status, in an envelope", async (_name, payload, status) => {
    const text = await raw(payload);
    expect(statusLines(text)[0]).toBe(status);
    const body = text.slice(text.indexOf("\r\n\r\n") + 4);
    expect(JSON.parse(body)).toMatchObject({ type: "error", error: { type: "invalid_request_error" } });
    expect(text.toLowerCase()).toContain("request-id: req_");
  });

  test("a request without Host (HTTP/1.0) is answered, not a 500", async () => {
    const text = await raw("GET /health HTTP/1.0\r\n\r\n");
    expect(statusLines(text)).toEqual([200]);
    expect(text).toContain('"status":"ok"');
  });

  test("an unknown path is a 404 envelope with a request-id", async () => {
    const res = await fetch(`${atrad.url}/nope`);
    expect(res.status).toBe(404);
    expect((await envelope(res)).type).toBe("not_found_error");
  });
});

// Each waits out the idle timeout or a slow answer, on its own connection and provider.
describe.concurrent("slow connections", () => {
  test("a header trickle (a byte every 200 ms, never done) is cut by idle_timeout_s", async () => {
    const outcome = await new Promise<string>((resolve) => {
      const s = connect(port, "127.0.0.1");
      const drip = setInterval(() => s.write("a"), 200);
      const giveUp = setTimeout(() => {
        resolve("still open");
        s.destroy();
      }, 8000);
      s.on("close", () => resolve("closed"));
      s.on("error", () => {});
      s.write("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nx-slow: ");
      s.once("close", () => {
        clearInterval(drip);
        clearTimeout(giveUp);
      });
    });
    expect(outcome).toBe("closed");
  }, 15_000);

  test("two pipelined requests on one connection are both answered, in order", async () => {
    // The first is slow: its answer takes ~2 s (40 deltas 40 ms apart), longer than idle_timeout_s (1),
    // and the second waits for the provider's one slot; the /health answer, quick, must not arm the
    // idle limit under the two still being answered.
    faulty.slowDelayMs = 40;
    const text = await raw(httpPost(ask("f/slow")) + httpPost(ask("f/ok")) + "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nconnection: close\r\n\r\n", 10_000);
    expect(statusLines(text)).toEqual([200, 200, 200]);
    const targets = [...text.matchAll(/^x-atrad-target: (.+)\r$/gim)].map((m) => m[1]);
    expect(targets).toEqual(["f/slow", "f/ok"]);
    expect(text.indexOf('"status":"ok"')).toBeGreaterThan(text.lastIndexOf("hello world"));
  });
  test("a quick answer does not arm the idle limit under a slow one pipelined behind it", async () => {
    // Both requests are read at once and answered in order: the quick first one is done while the
    // slow second (~2 s: 40 deltas 40 ms apart) still streams from upstream, past idle_timeout_s (1).
    faulty.slowDelayMs = 40;
    const text = await raw(httpPost(ask("p/ok")) + httpPost(ask("p/slow")) + "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nconnection: close\r\n\r\n", 10_000);
    expect(statusLines(text)).toEqual([200, 200, 200]);
    expect([...text.matchAll(/^x-atrad-target: (.+)\r$/gim)].map((m) => m[1])).toEqual(["p/ok", "p/slow"]);
  });
});

