/**
 * The HTTP layer over real sockets on 127.0.0.1: pipelined requests split across reads at every
 * byte, chunked bodies, 100-continue, keep-alive rules, backpressure to a client that stops
 * reading, the client leaving, stop, and the exclusive bind.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { connect, type Socket as NetSocket } from "node:net";
import { startGateway, PortInUseError } from "../server.ts";
import { createEventStream } from "../event-stream.ts";
import { testConfig } from "../../../test/support/daemon.ts";
import { Router } from "../../router/router.ts";
import { GONE, TOO_LARGE, type Exchange } from "./exchange.ts";
import { listenHttp, type Handlers } from "./listen.ts";
import { Out } from "./out.ts";

const stops: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const s of stops) await s();
});

const envelope = (status: number, message: string) => new Response(JSON.stringify({ type: "error", error: { type: "invalid_request_error", message } }), { status, headers: { "content-type": "application/json" } });
function serve(answer: (ex: Exchange) => Promise<Response | undefined>, extra: Partial<Handlers> = {}) {
  const server = listenHttp("127.0.0.1", 0, {
    answer,
    failed: (err) => envelope(500, String(err)),
    refusal: envelope,
    requestId: () => "req_test",
    idleMs: () => 5000,
    maxBodyBytes: () => 1024 * 1024,
    ...extra,
  });
  stops.push(() => server.stop(true));
  return server;
}

/** Echoes method, target and body. */
const echo = serve(async (ex) => {
  const body = await ex.body();
  if (body === GONE) return undefined;
  if (body === TOO_LARGE) return envelope(413, "too large");
  return new Response(`${ex.method} ${ex.target} ${body ? body.toString() : ""}`, { headers: { "content-type": "text/plain" } });
});

/** Everything the server sends until it closes; `parts` are written one by one, each in its own turn of the loop. */
function exchange(port: number, parts: Array<string | Buffer>): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, "127.0.0.1");
    s.setNoDelay(true);
    let out = "";
    s.on("data", (d) => (out += d.toString("latin1")));
    s.on("close", () => resolve(out));
    s.on("error", () => {});
    s.on("connect", async () => {
      for (const p of parts) {
        s.write(p);
        await new Promise((r) => setImmediate(r));
      }
    });
  });
}
const statuses = (text: string) => [...text.matchAll(/HTTP\/1\.1 (\d{3}) [^\r]*\r\n([\s\S]*?)\r\n\r\n/g)].map((m) => Number(m[1]));

describe("pipelining", () => {
  const three =
    "POST /a HTTP/1.1\r\nHost: x\r\ncontent-length: 5\r\n\r\nhello" +
    "POST /b HTTP/1.1\r\nHost: x\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\n\r\n" +
    "PUT /c HTTP/1.1\r\nHost: x\r\ncontent-length: 3\r\nconnection: close\r\n\r\nxyz";
  const expected = ["POST /a hello", "POST /b abcde", "PUT /c xyz"];
  /** The bodies of the answers, read the way a client reads them: head, content-length, body, next. */
  const answers = (text: string) => {
    const out: string[] = [];
    for (let at = 0; at < text.length; ) {
      const end = text.indexOf("\r\n\r\n", at);
      const length = Number(/content-length: (\d+)/.exec(text.slice(at, end))?.[1]);
      if (end < 0 || !Number.isFinite(length)) break;
      out.push(text.slice(end + 4, end + 4 + length));
      at = end + 4 + length;
    }
    return out;
  };

  test("three requests with bodies, split into two reads at every byte, are answered in order", async () => {
    for (let i = 0; i <= three.length; i++) {
      const text = await exchange(echo.port, [three.slice(0, i), three.slice(i)].filter(Boolean));
      expect({ i, answers: answers(text) }).toEqual({ i, answers: expected });
      expect(text).toContain("connection: close\r\n");
    }
  });

  test("a request pipelined behind a body over 16 KB in the same read is not taken for oversized headers", async () => {
    const big = "b".repeat(20_000);
    const text = await exchange(echo.port, [`POST /big HTTP/1.1\r\nHost: x\r\ncontent-length: ${big.length}\r\n\r\n${big}GET /next HTTP/1.1\r\nHost: x\r\n`, "connection: close\r\n\r\n"]);
    expect(statuses(text)).toEqual([200, 200]);
    expect(answers(text)[1]).toBe("GET /next ");
  });

  test("bodies of hundreds of KB, one after the other on a kept-alive connection, are bodies, not oversized headers", async () => {
    const big = "b".repeat(300_000);
    const post = (path: string) => `POST ${path} HTTP/1.1\r\nHost: x\r\ncontent-length: ${big.length}\r\n\r\n${big}`;
    const s = connect(echo.port, "127.0.0.1");
    let out = "";
    const ask = (payload: string, want: number) =>
      new Promise<void>((resolve) => {
        const on = (d: Buffer) => {
          out += d.toString("latin1");
          if (statuses(out).length === want && out.endsWith(big)) {
            s.off("data", on);
            resolve();
          }
        };
        s.on("data", on);
        s.write(payload);
      });
    for (let i = 1; i <= 4; i++) await ask(post(`/${i}`), i);
    s.destroy();
    expect(statuses(out)).toEqual([200, 200, 200, 200]);
  });

  test("headers over 16 KB arriving in pieces → 431, then the close", async () => {
    const text = await exchange(echo.port, ["GET / HTTP/1.1\r\nHost: x\r\n", ...Array.from({ length: 20 }, (_, i) => `x-h${i}: ${"a".repeat(1000)}\r\n`)]);
    expect(statuses(text)).toEqual([431]);
    expect(text).toContain("keep them under 16 KB");
  });

  test("framing that could be read two ways → 400", async () => {
    for (const head of ["content-length: 3\r\ntransfer-encoding: chunked", "transfer-encoding: gzip", "content-length: -1", "content-length: 1x"]) {
      const text = await exchange(echo.port, [`POST / HTTP/1.1\r\nHost: x\r\n${head}\r\n\r\nabc`]);
      expect({ head, status: statuses(text)[0] }).toEqual({ head, status: 400 });
    }
  });
});

describe("keep-alive", () => {
  test("HTTP/1.0 closes unless keep-alive is asked, and then is told it is kept", async () => {
    const closed = await exchange(echo.port, ["GET /x HTTP/1.0\r\n\r\n"]);
    expect(closed).toContain("connection: close\r\n");
    const kept = await exchange(echo.port, ["GET /x HTTP/1.0\r\nconnection: keep-alive\r\n\r\n", "GET /y HTTP/1.0\r\n\r\n"]);
    expect(statuses(kept)).toEqual([200, 200]);
    expect(kept).toContain("connection: keep-alive\r\n");
  });
});

describe("responses", () => {
  const server = serve(async (ex) => {
    if (ex.target === "/cookies") return new Response("c", { headers: [["set-cookie", "a=1"], ["set-cookie", "b=2; Path=/"]] });
    if (ex.target === "/none") return new Response(null, { status: 204 });
    if (ex.target === "/left") return new Response("x", { status: 499 });
    if (ex.target === "/stream") return new Response(new ReadableStream({ start: (c) => (c.enqueue(new TextEncoder().encode("ab")), c.enqueue(new TextEncoder().encode("cde")), c.close()) }), { headers: { "content-type": "text/event-stream" } });
    return new Response("body");
  });
  test("each set-cookie on its own line; HEAD and 204 without a body; 499 goes out as 400; a stream not of atrad's own in chunks", async () => {
    const text = await exchange(server.port, [
      "GET /cookies HTTP/1.1\r\nHost: x\r\n\r\nHEAD /x HTTP/1.1\r\nHost: x\r\n\r\nGET /none HTTP/1.1\r\nHost: x\r\n\r\nGET /left HTTP/1.1\r\nHost: x\r\n\r\nGET /stream HTTP/1.1\r\nHost: x\r\n\r\nGET /stream HTTP/1.1\r\nHost: x\r\nconnection: close\r\n\r\n",
    ]);
    expect(statuses(text)).toEqual([200, 200, 204, 400, 200, 200]);
    expect(text).toContain("set-cookie: a=1\r\nset-cookie: b=2; Path=/\r\n");
    const [, head, none] = text.split(/(?=HTTP\/1\.1 )/);
    expect(head).toEndWith("\r\n\r\n");
    expect(none).toEndWith("\r\n\r\n");
    // Kept alive, a stream is chunked; on the last answer, the close delimits it.
    expect(text).toContain("transfer-encoding: chunked\r\n\r\n2\r\nab\r\n3\r\ncde\r\n0\r\n\r\nHTTP/1.1 200 OK\r\n");
    expect(text).toEndWith("connection: close\r\n\r\nabcde");
  });
});

describe("header bytes", () => {
  test("bytes past ASCII in a header value reach the app as they came (one char per byte)", async () => {
    const server = serve(async (ex) => new Response(JSON.stringify([...ex.rawHeaders[3]!].map((c) => c.charCodeAt(0))), { headers: { "content-type": "application/json" } }));
    const text = await exchange(server.port, [Buffer.concat([Buffer.from("GET / HTTP/1.1\r\nHost: x\r\nx-name: caf"), Buffer.from([0xe9, 0xff]), Buffer.from("\r\nconnection: close\r\n\r\n")])]);
    expect(text).toEndWith("[99,97,102,233,255]");
  });
});

describe("100-continue", () => {
  test("the body is asked for with 100 Continue, and then answered", async () => {
    const text = await new Promise<string>((resolve) => {
      const s = connect(echo.port, "127.0.0.1");
      let out = "";
      s.on("data", (d) => {
        out += d;
        if (out === "HTTP/1.1 100 Continue\r\n\r\n") s.write("12345");
      });
      s.on("close", () => resolve(out));
      s.write("POST /c HTTP/1.1\r\nHost: x\r\nexpect: 100-continue\r\ncontent-length: 5\r\nconnection: close\r\n\r\n");
    });
    expect(text).toStartWith("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\n");
    expect(text).toEndWith("POST /c 12345");
  });
});

describe("backpressure", () => {
  test("Out keeps what the kernel did not take, in order, and drained() waits for a client that reads again", async () => {
    let client!: NetSocket;
    let out!: Out;
    const opened = Promise.withResolvers<void>();
    const blocks: boolean[] = [];
    const listener = Bun.listen<undefined>({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        open(s) {
          out = new Out(s as never, (b) => blocks.push(b));
          opened.resolve();
        },
        drain: () => out.flush(),
        data() {},
      },
    });
    client = connect(listener.port, "127.0.0.1");
    client.pause();
    await opened.promise;
    const chunk = (i: number) => Buffer.alloc(256 * 1024, i % 251);
    let n = 0;
    while (out.write(chunk(n++)) && n < 4096);
    expect(out.waiting).toBe(true);
    // A few more while blocked: kept, behind the rest.
    for (let k = 0; k < 3; k++) expect(out.write(chunk(n++))).toBe(false);
    let drained = false;
    const done = out.drained().then(() => (drained = true));
    await Promise.resolve();
    expect(drained).toBe(false);
    const total = n * 256 * 1024;
    const received: Buffer[] = [];
    let size = 0;
    const all = new Promise<void>((resolve) =>
      client.on("data", (d: Buffer) => {
        received.push(d);
        size += d.length;
        if (size >= total) resolve();
      }),
    );
    client.resume();
    await Promise.all([done, all]);
    const got = Buffer.concat(received);
    expect(got.length).toBe(total);
    for (let i = 0; i < n; i++) expect(got[i * 256 * 1024]! === i % 251 && got[(i + 1) * 256 * 1024 - 1]! === i % 251).toBe(true);
    expect(blocks.at(-1)).toBe(false);
    client.destroy();
    listener.stop(true);
  });

  test("a large event stream to a client that paused arrives whole and in order", async () => {
    const EVENTS = 200;
    const text = "y".repeat(32 * 1024);
    let pulled = 0;
    const half = Promise.withResolvers<void>();
    async function* batches() {
      for (let i = 0; i < EVENTS; i++) {
        pulled = i;
        // Well inside what the kernel buffers before the writer must wait: the client is paused.
        if (i === 8) half.resolve();
        yield [{ type: "content_block_delta", index: i, delta: { type: "text_delta", text } } as never];
      }
      yield [{ type: "message_stop" } as never];
    }
    const server = serve(async () => new Response(createEventStream(batches(), undefined, { pingMs: 60_000 }), { headers: { "content-type": "text/event-stream" } }));
    const s = connect(server.port, "127.0.0.1");
    s.write("GET /sse HTTP/1.1\r\nHost: x\r\nconnection: close\r\n\r\n");
    s.pause();
    await half.promise;
    const chunks: Buffer[] = [];
    s.on("data", (d: Buffer) => chunks.push(d));
    const closed = new Promise((r) => s.on("close", r));
    s.resume();
    await closed;
    expect(pulled).toBe(EVENTS - 1);
    const body = Buffer.concat(chunks).toString();
    // De-chunk, then check every event's index in order.
    const payload = body.slice(body.indexOf("\r\n\r\n") + 4).replace(/(?:^|\r\n)[0-9a-f]+\r\n/g, "");
    const indexes = [...payload.matchAll(/"index":(\d+)/g)].map((m) => Number(m[1]));
    expect(indexes).toEqual(Array.from({ length: EVENTS }, (_, i) => i));
    const runs = payload.match(/y{100,}/g)!;
    expect(runs.length).toBe(EVENTS);
    expect(runs.every((run) => run.length === text.length)).toBe(true);
    expect(payload).toContain("event: message_stop");
  });
});

describe("the client leaving", () => {
  test("aborts the request's signal", async () => {
    const aborted = Promise.withResolvers<void>();
    const arrived = Promise.withResolvers<void>();
    const server = serve(async (ex) => {
      ex.signal.addEventListener("abort", () => aborted.resolve());
      arrived.resolve();
      await aborted.promise;
      return new Response("late");
    });
    const s = connect(server.port, "127.0.0.1");
    s.write("GET /wait HTTP/1.1\r\nHost: x\r\n\r\n");
    await arrived.promise;
    expect(server.inFlight).toBe(1);
    s.destroy();
    await aborted.promise;
  });
});

describe("stop", () => {
  test("stop(false) closes idle connections and resolves once the answer in progress is out", async () => {
    const release = Promise.withResolvers<void>();
    const arrived = Promise.withResolvers<void>();
    const server = serve(async (ex) => {
      if (ex.target === "/quick") return new Response("quick");
      arrived.resolve();
      await release.promise;
      return new Response("done");
    });
    // One connection answered and kept alive (idle), one waiting for its answer.
    const idle = connect(server.port, "127.0.0.1");
    const idleText = new Promise<string>((resolve) => {
      let out = "";
      idle.on("data", (d) => (out += d));
      idle.on("close", () => resolve(out));
    });
    const answered = new Promise((resolve) => idle.once("data", resolve));
    idle.write("GET /quick HTTP/1.1\r\nHost: x\r\n\r\n");
    await answered;
    const busy = exchange(server.port, ["GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"]);
    await arrived.promise;
    const stopped = server.stop(false);
    expect(await idleText).toContain("quick");
    expect(server.inFlight).toBe(1);
    release.resolve();
    await stopped;
    const text = await busy;
    expect(text).toContain("connection: close\r\n");
    expect(text).toEndWith("done");
  });
});

describe("the bind", () => {
  const deps = () => {
    const config = testConfig("");
    return { config: () => config, router: new Router(config), version: "test", startedAt: Date.now() };
  };
  test("is exclusive: a second gateway on the same port fails with PortInUseError", async () => {
    const first = await startGateway(deps(), "127.0.0.1", 0);
    stops.push(() => first.stop(true));
    expect(startGateway(deps(), "127.0.0.1", first.port)).rejects.toBeInstanceOf(PortInUseError);
    const health = await fetch(`${first.url}/health`);
    expect(health.status).toBe(200);
  });

  test("an IPv6 host is shown in brackets and serves", async () => {
    const gw = await startGateway(deps(), "::1", 0).catch(() => undefined);
    if (!gw) return; // no IPv6 loopback on this machine
    stops.push(() => gw.stop(true));
    expect(gw.url).toBe(`http://[::1]:${gw.port}`);
    expect((await fetch(`${gw.url}/health`)).status).toBe(200);
  });

  test("a declared body past max_body_mb with Expect: 100-continue → 413 without 100 Continue, then the close", async () => {
    const gw = await startGateway(deps(), "127.0.0.1", 0);
    stops.push(() => gw.stop(true));
    const text = await exchange(gw.port, [`POST /v1/messages HTTP/1.1\r\nHost: 127.0.0.1\r\nexpect: 100-continue\r\ncontent-length: ${1024 * 1024 * 1024}\r\n\r\n`]);
    expect(text).not.toContain("100 Continue");
    expect(statuses(text)).toEqual([413]);
    expect(text).toContain("request_too_large");
  });
});
