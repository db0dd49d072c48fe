/**
 * The response lifecycle in-process (app.handle): whatever throws, and wherever, the client gets
 * an Anthropic envelope, the provider slot comes back exactly once and exactly one record is
 * written. The router is real; only its dispatch is replaced, to make the upstream misbehave.
 */
import { describe, expect, test } from "bun:test";
import type { StreamEvent } from "../anthropic/types.ts";
import { parseConfigText, resolveConfig, type Config } from "../config/load.ts";
import { UpstreamError } from "../providers/upstream.ts";
import type { Outcome } from "../providers/types.ts";
import { Router, type DispatchInput, type Dispatched } from "../router/router.ts";
import { createApp } from "./app.ts";
import type { RequestRecord } from "./record.ts";

const TOML = `[server]\nstream_commit_s = 0.05\nping_interval_s = 0.02\n[providers.p]\nkind = "openai"\nurl = "http://127.0.0.1:9"\nmodels = ["m"]\n[routes]\ndefault = ["p/m"]\n`;

type Dispatch = (input: DispatchInput) => Promise<Omit<Dispatched, "release" | "provider">>;

class ScriptedRouter extends Router {
  released = 0;
  constructor(
    private readonly cfg: Config,
    private readonly script: Dispatch,
  ) {
    super(cfg);
  }
  override async dispatch(input: DispatchInput): Promise<Dispatched> {
    const d = await this.script(input);
    return { ...d, provider: this.cfg.providers[0]!, release: () => void this.released++ };
  }
}

function harness(script: Dispatch, opts: { observe?: (r: RequestRecord) => void } = {}) {
  const config = resolveConfig(parseConfigText(TOML), { env: { ATRAD_HOME: "/tmp/atrad-lifecycle-test" } });
  const router = new ScriptedRouter(config, script);
  const records: RequestRecord[] = [];
  const app = createApp({
    config: () => config,
    router,
    version: "0.0.0",
    startedAt: Date.now(),
    observe: (r) => {
      records.push(r);
      opts.observe?.(r);
    },
  });
  const call = (body: Record<string, unknown>) =>
    app.handle(
      new Request("http://127.0.0.1:8040/v1/messages", {
        method: "POST",
        headers: { host: "127.0.0.1:8040", "content-type": "application/json" },
        body: JSON.stringify({ model: "p/m", max_tokens: 8, messages: [{ role: "user", content: "hi" }], ...body }),
      }),
    );
  return { router, records, call };
}

const message = { id: "msg_1", type: "message", role: "assistant", model: "m", content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 3, output_tokens: 0 } };
async function* goodEvents(): AsyncGenerator<StreamEvent> {
  yield { type: "message_start", message } as StreamEvent;
  yield { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } } as StreamEvent;
  yield { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "hello" } } as StreamEvent;
  yield { type: "content_block_stop", index: 0 } as StreamEvent;
  yield { type: "message_delta", delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: 1 } } as StreamEvent;
  yield { type: "message_stop" } as StreamEvent;
}
const routed = (outcome: Outcome, target = "p/m") => ({ outcome, target, url: "http://127.0.0.1:9", fallbacks: [], rule: "default" });
const events = (headers?: Record<string, string>): Outcome => ({ type: "events", events: goodEvents(), headers });

async function envelope(res: Response) {
  const text = await res.text();
  return { status: res.status, requestId: res.headers.get("request-id"), body: JSON.parse(text) as { type: string; error: { type: string; message: string } } };
}

describe("a throw anywhere still answers, gives the slot back once and writes one record", () => {
  test.each([
    ["an upstream header the Response refuses (streaming)", true, () => routed(events({ "x-upstream": "bad\u0000value" }))],
    ["an upstream header the Response refuses (whole)", false, () => routed({ type: "body", status: 200, body: JSON.stringify(message), headers: { "x-upstream": "bad\u0000value" } })],
  ])("HeaderRefused_%s", async (_name, stream, outcome) => {
    const h = harness(async () => outcome());
    const res = await h.call({ stream });
    const e = await envelope(res);
    expect(e.status).toBe(500);
    expect(e.body.type).toBe("error");
    expect(e.requestId).toStartWith("req_");
    expect(h.router.released).toBe(1);
    expect(h.records.length).toBe(1);
    expect(h.records[0]!.status).toBe(500);
  });

  test.each([
    ["a plain exception in the router", new TypeError("boom"), 500, "api_error", null],
    ["an upstream 529 with retry-after", new UpstreamError(529, "p/m answered 529: busy", undefined, "7"), 529, "overloaded_error", "7"],
  ])("DispatchThrows_%s", async (_name, err, status, type, retryAfter) => {
    for (const stream of [false, true]) {
      const h = harness(async () => {
        throw err;
      });
      const res = await h.call({ stream });
      expect(res.headers.get("retry-after")).toBe(retryAfter);
      const e = await envelope(res);
      expect(e.status).toBe(status);
      expect(e.body.error.type).toBe(type);
      expect(h.records.map((r) => r.status)).toEqual([status]);
    }
  });

  test("ObserverThrows_AnswerStandsAndSlotComesBack", async () => {
    const h = harness(async () => routed(events()), {
      observe: () => {
        throw new Error("disk full");
      },
    });
    const res = await h.call({ stream: true });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("event: message_stop");
    expect(h.router.released).toBe(1);
  });

  test("TargetWithControlCharacters_HeaderEncodedNotRefused", async () => {
    const h = harness(async () => routed(events(), "p/m\u0000\u2028é"));
    const res = await h.call({});
    expect(res.status).toBe(200);
    expect(res.headers.get("x-atrad-target")).toBe("p/m%00%E2%80%A8%C3%A9");
    expect(h.router.released).toBe(1);
  });
});

describe("a streaming 200 is committed only once the upstream has produced an event", () => {
  test("FirstEventIsError_AnsweredWithItsStatus", async () => {
    async function* failing(): AsyncGenerator<StreamEvent> {
      yield { type: "error", error: { type: "overloaded_error", message: "p/m is overloaded" } };
    }
    const h = harness(async () => routed({ type: "events", events: failing() }));
    const e = await envelope(await h.call({ stream: true }));
    expect(e.status).toBe(529);
    expect(e.body.error).toEqual({ type: "overloaded_error", message: "p/m is overloaded" });
    expect(h.router.released).toBe(1);
  });

  test("SilentPastTheCommitWindow_200WithPingsThenTheAnswer", async () => {
    // The window is 50 ms (stream_commit_s = 0.05); the router answers after 300 ms.
    const h = harness(async () => {
      await Bun.sleep(300);
      return routed(events());
    });
    const res = await h.call({ stream: true });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text.indexOf("event: ping")).toBeLessThan(text.indexOf("event: message_start"));
    expect(text).toContain("event: message_stop");
    expect(h.router.released).toBe(1);
  });

  test("FailsPastTheCommitWindow_ErrorEventNamingTheCause", async () => {
    const h = harness(async () => {
      await Bun.sleep(300);
      throw new UpstreamError(529, "p/m answered 529: busy");
    });
    const res = await h.call({ stream: true });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain("event: error");
    expect(text).toContain("p/m answered 529: busy");
    expect(h.records.map((r) => r.error_type)).toEqual(["overloaded_error"]);
  });
});

describe("message_start carries the best-known input count", () => {
  async function* startingWith(usage: Record<string, number>): AsyncGenerator<StreamEvent> {
    let first = true;
    for await (const e of goodEvents()) {
      yield first ? ({ type: "message_start", message: { ...message, usage } } as unknown as StreamEvent) : e;
      first = false;
    }
  }
  const inputAtStart = (text: string) => {
    const data = /event: message_start\ndata: (.*)\n/.exec(text)![1]!;
    return (JSON.parse(data) as { message: { usage: { input_tokens: number } } }).message.usage.input_tokens;
  };
  const longPrompt = "tell me about the weather in the mountains ".repeat(50);

  test.each([
    ["an upstream that says 0 gets the local estimate", { input_tokens: 0, output_tokens: 0 }, (n: number) => n > 100],
    ["an upstream's own count is kept", { input_tokens: 1234, output_tokens: 0 }, (n: number) => n === 1234],
    ["a cached prompt's small count is kept", { input_tokens: 3, cache_read_input_tokens: 4000, output_tokens: 0 }, (n: number) => n === 3],
  ])("%s", async (_name, usage, ok) => {
    const h = harness(async () => routed({ type: "events", events: startingWith(usage) }));
    const res = await h.call({ stream: true, messages: [{ role: "user", content: longPrompt }] });
    const n = inputAtStart(await res.text());
    expect(ok(n)).toBe(true);
  });
});
