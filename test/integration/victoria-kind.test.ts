/**
 * The `victoria` kind against a stand-in Victoria over real sockets, driven by the official
 * Anthropic SDK and by raw fetch where the wire itself (pings, cancellation) is the point.
 */
import Anthropic from "@anthropic-ai/sdk";
import { describe, expect, test } from "bun:test";
import { sequence, startVictoriaStandIn, type StatusDoc } from "../standins/victoria.ts";
import { startTestDaemon } from "../support/daemon.ts";
import { atradInFrontOf, FAST_MAX_POLL_S, FAST_POLL, streamText, victoriaToml } from "../support/gateway.ts";

const MULTILINE = "Plan:\n\n  1. read the file\n\t2. fix   the bug\n\n```py\ndef f():\n    return 1\n```\n— done ✓ 🚀";

const standins = { victoria: startVictoriaStandIn(), veronica: startVictoriaStandIn({ agent: "Veronica" }), solo: startVictoriaStandIn(), slowpoke: startVictoriaStandIn(), busy: startVictoriaStandIn() };
const { victoria, veronica, solo, slowpoke, busy, atrad, client } = await atradInFrontOf(standins, ({ victoria, veronica, solo, slowpoke, busy }) => `
${victoriaToml(victoria.url)}
[providers.veronica]
kind = "victoria"
max_steps = 50
url = "${veronica.url}"
${FAST_POLL}
[providers.solo]
kind = "victoria"
url = "${solo.url}"
max_concurrency = 1
${FAST_POLL}
[providers.hasty]
kind = "victoria"
url = "${slowpoke.url}"
timeout_s = 0.3
show_progress = false
${FAST_POLL}
[providers.busy]
kind = "victoria"
url = "${busy.url}"
${FAST_POLL}
`);

const ask = (model: string, content: string) => ({ model, max_tokens: 1000, messages: [{ role: "user" as const, content }] });

describe("victoria kind: answers", () => {
  test("sync 200: output is one text block, intact; correlation id sent and returned", async () => {
    victoria.behave = () => ({ type: "sync", body: { status: "success", output: MULTILINE, knowledge: {} } });
    const { data, response } = await client.messages.create(ask("victoria", "fix it")).withResponse();
    expect(data.content as unknown).toEqual([{ type: "text", text: MULTILINE }]);
    expect(data.stop_reason).toBe("end_turn");
    expect(data.usage.output_tokens).toBeGreaterThan(10);
    expect(data.usage.input_tokens).toBeGreaterThan(0);
    const sub = victoria.submissions.at(-1)!;
    expect(sub.query).toBe("?async_mode=true");
    expect(sub.body.goal).toBe("fix it");
    const correlation = response.headers.get("x-correlation-id");
    expect(correlation).toBe(response.headers.get("request-id"));
    expect(sub.headers["x-correlation-id"]).toBe(correlation!);
  });

  test("async 202: queued → running → completed is polled, streamed byte-for-byte, stages shown as thinking", async () => {
    victoria.behave = () => ({
      type: "async",
      poll: sequence({ status: "queued" }, { status: "running", stage: "planning" }, { status: "running", stage: "planning" }, { status: "completed", output: MULTILINE }),
    });
    const before = victoria.polls.length;
    const { text: streamed, final } = await streamText(client.messages.stream(ask("victoria/team-lead", "plan it")));
    expect(streamed).toBe(MULTILINE);
    expect(final.content.at(-1) as unknown).toEqual({ type: "text", text: MULTILINE });
    expect(final.content[0]).toMatchObject({ type: "thinking", thinking: "queued\nrunning: planning\n" });
    const taskId = victoria.submissions.at(-1)!.taskId!;
    expect(victoria.polls.slice(before).map((p) => [p.taskId, p.answered])).toEqual([
      [taskId, "queued"],
      [taskId, "running"],
      [taskId, "running"],
      [taskId, "completed"],
    ]);
  }, 20_000);

  test("needs_clarification lists the restatement and every question, string or {text}", async () => {
    victoria.behave = () => ({
      type: "sync",
      body: {
        status: "needs_clarification",
        clarification_questions: ["Which repository?", { text: "Should tests be added?" }],
        original_goal: "fix it",
        suggested_restatement: "Fix the failing build in repo X",
      },
    });
    const msg = await client.messages.create(ask("victoria", "fix it"));
    const text = (msg.content[0] as { text: string }).text;
    expect(text).toContain("Suggested restatement:\nFix the failing build in repo X");
    expect(text).toContain("1. Which repository?\n2. Should tests be added?");
  });

  test("a failed task is an api_error carrying Victoria's message and the task id", async () => {
    victoria.behave = () => ({ type: "async", poll: sequence({ status: "running" }, { status: "failed", error: "agent crashed: KeyError 'x'" }) });
    const err = await client.messages.create(ask("victoria", "do it")).catch((e) => e);
    expect(err).toBeInstanceOf(Anthropic.InternalServerError);
    expect(err.error.error.type).toBe("api_error");
    expect(err.error.error.message).toContain("agent crashed: KeyError 'x'");
    expect(err.error.error.message).toContain(victoria.submissions.at(-1)!.taskId!);
  });

  test("a failed task mid-stream ends the SSE stream with an error event", async () => {
    victoria.behave = () => ({ type: "async", poll: sequence({ status: "failed", error: "boom" }) });
    const res = await fetch(`${atrad.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ ...ask("victoria", "x"), stream: true }) });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text.startsWith("event: message_start")).toBe(true);
    expect(text).toContain("event: error");
    expect(text).toContain(victoria.submissions.at(-1)!.taskId!);
    expect(text).not.toContain("message_stop");
  });

  test("HTTP 500 {detail} becomes Anthropic's api_error envelope, not FastAPI's", async () => {
    victoria.behave = () => ({ type: "sync", status: 500, body: { detail: "LLM backend unavailable" } });
    const res = await fetch(`${atrad.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(ask("victoria", "x")) });
    expect(res.status).toBe(500);
    const body = (await res.json()) as any;
    expect(body.type).toBe("error");
    expect(body.error.type).toBe("api_error");
    expect(body.error.message).toContain("LLM backend unavailable");
    expect(body.error.message).toContain(res.headers.get("request-id")!);
  });

  test("a task Victoria forgot (404 on status) is an error naming the task", async () => {
    victoria.behave = () => ({ type: "async", forget: true, poll: sequence({ status: "running" }) });
    const err = await client.messages.create(ask("victoria", "x")).catch((e) => e);
    expect(err).toBeInstanceOf(Anthropic.InternalServerError);
    expect(err.error.error.message).toContain(`no longer knows task ${victoria.submissions.at(-1)!.taskId}`);
    expect(victoria.polls.at(-1)!.answered).toBeUndefined();
  });

  test("tool_choice any/tool is a 400: Victoria cannot call tools; offered tools are not forwarded", async () => {
    const tools = [{ name: "Read", input_schema: { type: "object" as const } }];
    for (const tool_choice of [{ type: "any" as const }, { type: "tool" as const, name: "Read" }]) {
      const err = await client.messages.create({ ...ask("victoria", "x"), tools, tool_choice }).catch((e) => e);
      expect(err).toBeInstanceOf(Anthropic.BadRequestError);
      expect(err.error.error.message).toContain("Victoria cannot call tools");
    }
    const n = victoria.submissions.length;
    victoria.behave = () => ({ type: "sync", body: { status: "success", output: "ok" } });
    await client.messages.create({ ...ask("victoria", "x"), tools, tool_choice: { type: "auto" } });
    expect(victoria.submissions.length).toBe(n + 1);
    expect(JSON.stringify(victoria.submissions.at(-1)!.body)).not.toContain("Read");
  });
});

describe("victoria kind: atrad enforces what Victoria ignores", () => {
  test('stop_sequences cut the answer: stop_reason "stop_sequence" with the string, streaming and not', async () => {
    victoria.behave = () => ({ type: "sync", body: { status: "success", output: "Plan:\n1. look\n---\n2. never shown" } });
    const req = { ...ask("victoria", "plan"), stop_sequences: ["---"] };
    const whole = await client.messages.create(req);
    expect([whole.content, whole.stop_reason, whole.stop_sequence]).toEqual([[{ type: "text", text: "Plan:\n1. look\n" }], "stop_sequence", "---"] as never);
    const streamed = await client.messages.stream(req).finalMessage();
    expect([streamed.content, streamed.stop_reason, streamed.stop_sequence]).toEqual([[{ type: "text", text: "Plan:\n1. look\n" }], "stop_sequence", "---"] as never);
  });

  test('max_tokens cuts a longer answer: stop_reason "max_tokens"', async () => {
    victoria.behave = () => ({ type: "sync", body: { status: "success", output: "word ".repeat(200) } });
    const msg = await client.messages.create({ ...ask("victoria", "talk"), max_tokens: 10 });
    expect(msg.stop_reason).toBe("max_tokens");
    expect(msg.usage.output_tokens).toBeLessThanOrEqual(10);
    expect("word ".repeat(200).startsWith((msg.content[0] as { text: string }).text)).toBe(true);
  });
});


describe("victoria kind: what reaches Victoria", () => {
  const PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

  test("a multi-turn conversation with tool results arrives as goal + chat_history, nothing dropped", async () => {
    victoria.behave = () => ({ type: "sync", body: { status: "success", output: "summary" } });
    const res = await fetch(`${atrad.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        model: "victoria",
        max_tokens: 1000,
        system: [{ type: "text", text: "x-anthropic-billing-header: cc_version=1;" }, { type: "text", text: "You are a coding agent.", cache_control: { type: "ephemeral" } }],
        metadata: { user_id: JSON.stringify({ device_id: "d", session_id: "sess-42" }) },
        tools: [{ name: "Read", description: "read a file", input_schema: { type: "object" } }],
        messages: [
          { role: "user", content: "Read a.py" },
          {
            role: "assistant",
            content: [
              { type: "thinking", thinking: "private", signature: "sig" },
              { type: "text", text: "Reading it." },
              { type: "tool_use", id: "toolu_1", name: "Read", input: { path: "a.py" } },
            ],
          },
          { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content: [{ type: "text", text: "def f():\n    return 1" }] }] },
          { role: "assistant", content: "It returns 1." },
          {
            role: "user",
            content: [
              { type: "tool_result", tool_use_id: "toolu_2", is_error: true, content: "permission denied" },
              { type: "text", text: "Now make it return 2.\n  Keep the indent." },
              { type: "image", source: { type: "base64", media_type: "image/png", data: PNG } },
            ],
          },
          { role: "system", content: [{ type: "text", text: "Environment: linux" }] },
        ],
      }),
    });
    expect(res.status).toBe(200);
    const body = victoria.submissions.at(-1)!.body;
    // Claude Code's mid-conversation note stays with the turn it was said in.
    expect(body.goal).toBe("[tool error for (id toolu_2)]\npermission denied\n\nNow make it return 2.\n  Keep the indent.\n\n[image 1 attached (image/png)]\n\n<system-reminder>\nEnvironment: linux\n</system-reminder>");
    expect(body.chat_history).toEqual([
      { role: "user", content: "Read a.py" },
      { role: "assistant", content: 'Reading it.\n\n[tool call Read (id toolu_1) with input {"path":"a.py"}]' },
      { role: "user", content: "[tool result for Read (id toolu_1)]\ndef f():\n    return 1" },
      { role: "assistant", content: "It returns 1." },
    ]);
    expect(body.project_context).toBe("You are a coding agent.");
    expect(body.session_id).toBe("sess-42");
    expect(body.images_base64).toEqual([PNG]);
    expect(body.tools).toBeUndefined();
    expect(Object.keys(body).sort()).toEqual(["chat_history", "goal", "images_base64", "project_context", "session_id"]);
  });

  test("the x-claude-code-session-id header is the session id", async () => {
    victoria.behave = () => ({ type: "sync", body: { status: "success", output: "ok" } });
    await fetch(`${atrad.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-claude-code-session-id": "hdr-7" },
      body: JSON.stringify(ask("victoria", "x")),
    });
    expect(victoria.submissions.at(-1)!.body.session_id).toBe("hdr-7");
  });

  test("veronica gets the smaller body, with the history folded into the goal", async () => {
    veronica.behave = (b) => ({ type: "sync", body: { status: "success", output: `veronica: ${b.max_steps}`, knowledge: null } });
    const msg = await client.messages.create({
      model: "veronica",
      max_tokens: 100,
      system: "Be brief.",
      messages: [
        { role: "user", content: "hello" },
        { role: "assistant", content: "hi" },
        { role: "user", content: "summarise" },
      ],
    });
    expect(msg.content as unknown).toEqual([{ type: "text", text: "veronica: 50" }]);
    const body = veronica.submissions.at(-1)!.body;
    expect(Object.keys(body).sort()).toEqual(["goal", "max_steps", "project_context"]);
    expect(body).toEqual({
      goal: "Conversation so far:\n\nUser:\nhello\n\nAssistant:\nhi\n\nCurrent request:\n\nsummarise",
      max_steps: 50,
      project_context: "Be brief.",
    });
  });
});

describe("victoria kind: concurrency", () => {
  function gate() {
    let open!: () => void;
    const opened = new Promise<void>((r) => (open = r));
    return { open, opened };
  }
  async function until(cond: () => boolean) {
    while (!cond()) await Bun.sleep(20);
  }

  test("two requests run at once: there is no global lock", async () => {
    const g = gate();
    // Tasks earlier tests abandoned (forgotten, timed out) still count as running at Victoria.
    const base = victoria.active;
    victoria.maxActive = base;
    const n0 = victoria.submissions.length;
    victoria.behave = (b) => ({ type: "sync", hold: g.opened, body: { status: "success", output: `done ${b.goal}` } });
    const both = Promise.all([client.messages.create(ask("victoria", "one")), client.messages.create(ask("victoria", "two"))]);
    // Both goals are with Victoria before either is answered.
    await until(() => victoria.submissions.length === n0 + 2);
    expect(victoria.active).toBe(base + 2);
    g.open();
    const [a, b] = await both;
    expect([a.content[0], b.content[0]] as unknown).toEqual([{ type: "text", text: "done one" }, { type: "text", text: "done two" }]);
    expect(victoria.maxActive).toBe(base + 2);
  });

  test("max_concurrency = 1 queues the second request until the first is done", async () => {
    const first = gate();
    solo.behave = (b) => ({ type: "sync", hold: b.goal === "one" ? first.opened : undefined, body: { status: "success", output: `done ${b.goal}` } });
    const one = client.messages.create(ask("solo", "one"));
    await until(() => solo.submissions.length === 1);
    const two = client.messages.create(ask("solo", "two"));
    await until(() => atrad.router.limiter("solo")!.queued === 1);
    expect(solo.submissions.map((s) => s.body.goal)).toEqual(["one"]);
    first.open();
    const [a, b] = await Promise.all([one, two]);
    expect((a.content[0] as { text: string }).text).toBe("done one");
    expect((b.content[0] as { text: string }).text).toBe("done two");
    expect(solo.submissions.map((s) => s.body.goal)).toEqual(["one", "two"]);
    expect(solo.maxActive).toBe(1);
  });
});

// The cases that wait on the clock (a timeout, pings, a retry's backoff) run side by side: each
// has a stand-in of its own (the retry also its own daemon), and none reads the shared ones.
describe.concurrent("victoria kind: waiting, side by side", () => {
  test("the provider timeout ends the task with an error naming it", async () => {
    slowpoke.behave = () => ({ type: "async", poll: sequence({ status: "running", stage: "forever" }) });
    const err = await client.messages.create(ask("hasty", "x")).catch((e) => e);
    expect(err.status).toBe(504);
    expect(err.error.error.type).toBe("timeout_error");
    expect(err.error.error.message).toContain(slowpoke.submissions.at(-1)!.taskId!);
    expect(err.error.error.message).toContain("timeout_s");
  });

  test("a slow task: message_start at once, pings while she works, a disconnect stops polling", async () => {
    let release!: () => void;
    const hung = new Promise<void>((r) => (release = r));
    busy.behave = () => ({
      type: "async",
      // The second poll hangs like a busy Victoria until the client has gone.
      poll: async (n, signal) => {
        if (n === 0) return { status: "running", stage: "thinking" } as StatusDoc;
        signal.addEventListener("abort", () => release());
        await hung;
        return { status: "running" } as StatusDoc;
      },
    });
    const polls0 = busy.polls.length;
    const ac = new AbortController();
    const res = await fetch(`${atrad.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ ...ask("busy", "long job"), stream: true }),
      signal: ac.signal,
    });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const dec = new TextDecoder();
    let seen = "";
    while ((seen.match(/event: ping/g)?.length ?? 0) < 2 || busy.polls.length < polls0 + 2) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`stream ended early: ${seen}`);
      seen += dec.decode(value);
    }
    expect(seen.startsWith("event: message_start")).toBe(true);
    ac.abort();
    await hung; // the stand-in saw atrad abort the in-flight poll
    expect(busy.polls.at(-1)!.aborted).toBe(true);
    // Had polling gone on, the next poll would come within max_poll_interval_s: wait three of them.
    await Bun.sleep(3 * FAST_MAX_POLL_S * 1000);
    expect(busy.polls.length).toBe(polls0 + 2);
  }, 20_000);

  test("a refused connection is retried before Victoria accepts; the goal is submitted once", async () => {
    // Take a free port, free it, and only start Victoria there once atrad has been refused.
    const probe = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
    const port = probe.port!;
    probe.stop(true);
    const late = await startTestDaemon(`[providers.late]\nkind = "victoria"\nurl = "http://127.0.0.1:${port}"\n`);
    try {
      const pending = fetch(`${late.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(ask("late", "once")) });
      await Bun.sleep(200);
      const standIn = startVictoriaStandIn({ port });
      try {
        const res = await pending;
        expect(res.status).toBe(200);
        expect(((await res.json()) as any).content[0].text).toBe("echo: once");
        expect(standIn.submissions.map((s) => s.body.goal)).toEqual(["once"]);
      } finally {
        await standIn.stop();
      }
    } finally {
      await late.stop();
    }
  });
});
