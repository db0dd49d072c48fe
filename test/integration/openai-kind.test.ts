/**
 * The `openai` kind end to end over real sockets: the official Anthropic SDK talks to atrad,
 * atrad talks to the mlx_lm.server stand-in (whole tool calls, string errors, text-only) and
 * to the piecewise (vLLM-style) stand-in.
 */
import Anthropic from "@anthropic-ai/sdk";
import { beforeEach, describe, expect, test } from "bun:test";
import { parseSse } from "../../src/wire/sse.ts";
import type { StreamEvent } from "../../src/anthropic/types.ts";
import { streamProblems } from "../support/stream-shape.ts";
import { startOpenAIStandIn, type OpenAIStandIn } from "../standins/mlx-lm.ts";
import { NOWHERE, providerToml } from "../support/daemon.ts";
import { atradInFrontOf, streamText } from "../support/gateway.ts";

const MODEL = "mlx-community/Qwen2.5-Coder-7B-Instruct-4bit";
const standins = { mlx: startOpenAIStandIn({ flavor: "mlx" }), vllm: startOpenAIStandIn({ flavor: "piecewise" }) };
const { mlx, vllm, atrad, client } = await atradInFrontOf(standins, ({ mlx, vllm }) => `
[providers.mlxlm]
kind = "openai"
url = "${mlx.url}"
[providers.vllm]
kind = "openai"
url = "${vllm.url}/v1"
[providers.notools]
kind = "openai"
url = "${vllm.url}"
tools = "none"
${providerToml("gone", "openai", NOWHERE, 'models = ["x"]')}
[routes]
default = ["mlxlm/${MODEL}"]
haiku = ["vllm/${MODEL}"]
`);
beforeEach(() => {
  mlx.reply = vllm.reply = () => ({ items: [{ text: "ok" }] });
});

const user = (content: string) => [{ role: "user" as const, content }];
const tools = [
  {
    name: "Write",
    description: "Write a file",
    input_schema: { type: "object" as const, properties: { file_path: { type: "string" }, content: { type: "string" } }, required: ["file_path", "content"] },
  },
];

/** POST /v1/messages with stream: true and collect the raw SSE events. */
async function rawStream(body: Record<string, unknown>): Promise<StreamEvent[]> {
  const res = await fetch(`${atrad.url}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-api-key": "k", "anthropic-version": "2023-06-01" },
    body: JSON.stringify({ max_tokens: 100, stream: true, ...body }),
  });
  expect(res.status).toBe(200);
  const out: StreamEvent[] = [];
  for await (const m of parseSse(res.body!)) out.push(JSON.parse(m.data));
  return out;
}

describe("openai kind via the official Anthropic SDK", () => {
  test("non-streaming text; the upstream got a streamed, Content-Length request", async () => {
    mlx.reply = () => ({ items: [{ text: "hello from mlx" }], usage: { prompt: 31, completion: 4 } });
    const msg = await client.messages.create({ model: "claude-sonnet-5", max_tokens: 100, system: "be brief", messages: user("hi") });
    expect(msg.content).toEqual([{ type: "text", text: "hello from mlx" }] as never);
    expect(msg.stop_reason).toBe("end_turn");
    expect(msg.usage).toMatchObject({ input_tokens: 31, output_tokens: 4 });
    const rec = mlx.received.at(-1)!;
    expect(rec.headers["content-length"]).toBe(String(Buffer.byteLength(JSON.stringify(rec.body))));
    expect(rec.headers["transfer-encoding"]).toBeUndefined();
    expect(rec.body).toMatchObject({ model: MODEL, stream: true, stream_options: { include_usage: true }, max_tokens: 100 });
    expect(rec.body.messages).toEqual([{ role: "system", content: "be brief" }, { role: "user", content: "hi" }]);
  });

  for (const [name, model, standin] of [["mlx", "claude-sonnet-5", () => mlx], ["piecewise", "claude-haiku-5", () => vllm]] as const) {
    test(`${name}: streaming multi-line text arrives byte-for-byte`, async () => {
      const text = "def f():\n    return 1\n\n\n\tx = [1,  2]\n  \n";
      standin().reply = () => ({ items: [{ reasoning: "let me think" }, { text }] });
      const { text: streamed, final } = await streamText(client.messages.stream({ model, max_tokens: 100, messages: user("code") }));
      expect(streamed).toBe(text);
      expect(final.content).toEqual([{ type: "thinking", thinking: "let me think", signature: "" }, { type: "text", text }] as never);
    });

    test(`${name}: tool round trip`, async () => {
      standin().reply = (body) => {
        const last = body.messages.at(-1);
        if (last.role === "tool") return { items: [{ text: `wrote it (${last.content}; call ${last.tool_call_id})` }] };
        return { items: [{ text: "Writing." }, { tool: { id: "call_abc", name: "Write", arguments: '{"file_path": "/tmp/a.txt", "content": "one\\n  two\\n"}' } }] };
      };
      const first = await client.messages.stream({ model, max_tokens: 100, tools, messages: user("write it") }).finalMessage();
      expect(first.stop_reason).toBe("tool_use");
      expect(first.content[1]).toEqual({ type: "tool_use", id: "call_abc", name: "Write", input: { file_path: "/tmp/a.txt", content: "one\n  two\n" } } as never);
      const sent = standin().received.at(-1)!.body;
      expect(sent.tools).toEqual([{ type: "function", function: { name: "Write", description: "Write a file", parameters: tools[0]!.input_schema } }]);
      const second = await client.messages.create({
        model,
        max_tokens: 100,
        tools,
        messages: [
          ...user("write it"),
          { role: "assistant", content: first.content as never },
          { role: "user", content: [{ type: "tool_result", tool_use_id: "call_abc", content: "File created" }] },
        ],
      });
      expect(second.content).toEqual([{ type: "text", text: "wrote it (File created; call call_abc)" }] as never);
      const history = standin().received.at(-1)!.body.messages;
      // The arguments go back as the server sent them (its spacing): the model's own turn is a
      // prefix-cache hit.
      expect(history.at(-2)).toEqual({
        role: "assistant",
        content: "Writing.",
        tool_calls: [{ id: "call_abc", type: "function", function: { name: "Write", arguments: '{"file_path": "/tmp/a.txt", "content": "one\\n  two\\n"}' } }],
      });
    });
  }

  // Claude Code sends every Edit back re-serialised, `replace_all: false` added first.
  test("an Edit call goes back byte for byte although Claude Code re-serialised its input", async () => {
    const Edit = { name: "Edit", description: "Edit a file", input_schema: { type: "object" as const, properties: { file_path: { type: "string" }, old_string: { type: "string" }, new_string: { type: "string" }, replace_all: { type: "boolean" } } } };
    const written = '{"file_path":"/a.py", "old_string": "x = 1",\n "new_string": "x = 2"}';
    vllm.reply = (body) => (body.messages.at(-1).role === "tool" ? { items: [{ text: "done" }] } : { items: [{ tool: { id: "call_edit1", name: "Edit", arguments: written } }] });
    const first = await client.messages.create({ model: "claude-haiku-5", max_tokens: 100, tools: [Edit], messages: user("edit") });
    const use = first.content[0] as { id: string; input: Record<string, unknown> };
    const resent = { type: "tool_use", id: use.id, name: "Edit", input: { replace_all: false, file_path: "/a.py", new_string: "x = 2", old_string: "x = 1" } };
    const next = (input: Record<string, unknown>) =>
      client.messages.create({ model: "claude-haiku-5", max_tokens: 100, tools: [Edit], messages: [...user("edit"), { role: "assistant", content: [{ ...resent, input }] as never }, { role: "user", content: [{ type: "tool_result", tool_use_id: use.id, content: "ok" }] }] });
    await next(resent.input);
    expect(vllm.received.at(-1)!.body.messages.at(-2).tool_calls[0].function.arguments).toBe(written);
    // An input the client really changed is sent as it now is.
    await next({ ...resent.input, new_string: "x = 3" });
    expect(JSON.parse(vllm.received.at(-1)!.body.messages.at(-2).tool_calls[0].function.arguments)).toEqual({ ...resent.input, new_string: "x = 3" });
  });

  test("the raw event sequence is well-formed, with one input_json_delta per tool call", async () => {
    vllm.reply = () => ({ items: [{ text: "a" }, { tool: { name: "Write", arguments: '{"file_path": "/x", "content": "y"}' } }, { tool: { name: "Write", arguments: "{}" } }] });
    const events = await rawStream({ model: "claude-haiku-5", tools, messages: user("x") });
    expect(streamProblems(events)).toEqual([]);
    const jsonDeltas = events.filter((e) => e.type === "content_block_delta" && e.delta.type === "input_json_delta");
    expect(jsonDeltas.map((e) => (e as { index: number }).index)).toEqual([1, 2]);
  });

  test("weak-model arguments are repaired; unusable ones become text, never a broken tool_use", async () => {
    vllm.reply = () => ({ items: [{ tool: { name: "Write", arguments: "```json\n{'file_path': '/x', 'content': 'y',}\n```" } }] });
    const fixed = await client.messages.create({ model: "claude-haiku-5", max_tokens: 100, tools, messages: user("x") });
    expect(fixed.content[0]).toMatchObject({ type: "tool_use", name: "Write", input: { file_path: "/x", content: "y" } });
    vllm.reply = () => ({ items: [{ tool: { name: "Write", arguments: "I would like to write /x" } }] });
    const broken = await client.messages.create({ model: "claude-haiku-5", max_tokens: 100, tools, messages: user("x") });
    expect(broken.stop_reason).toBe("end_turn");
    expect(broken.content).toHaveLength(1);
    expect(broken.content[0]!.type).toBe("text");
    expect((broken.content[0] as { text: string }).text).toContain('tool "Write"');
  });

  test("max_tokens and sampling reach the upstream; stop_reason comes back", async () => {
    vllm.reply = () => ({ items: [{ text: "1 2 3" }] });
    // This SDK's types no longer list temperature/top_p, but the API and Claude Code's older paths send them.
    const sampling: {} = { temperature: 0.1, top_p: 0.5 };
    const r = await client.messages.create({ model: "claude-haiku-5", max_tokens: 7, ...sampling, messages: user("count") });
    expect(r.stop_reason).toBe("end_turn");
    expect(vllm.received.at(-1)!.body).toMatchObject({ max_tokens: 7, temperature: 0.1, top_p: 0.5 });
    vllm.reply = () => ({ items: [{ text: "1 2" }], finish: "length" });
    expect((await client.messages.create({ model: "claude-haiku-5", max_tokens: 2, messages: user("count") })).stop_reason).toBe("max_tokens");
  });

  // mlx_lm.server strips a stop string and says only "stop": atrad keeps the stop sequences
  // and finds them in the text itself, streaming or not, on both kinds of server.
  for (const [flavor, model] of [["mlx", "claude-sonnet-5"], ["piecewise", "claude-haiku-5"]] as const) {
    test(`${flavor}: stop_reason "stop_sequence" names the matched string`, async () => {
      const server = flavor === "mlx" ? mlx : vllm;
      server.reply = () => ({ items: [{ text: "1 2 3 ST" }, { text: "OP 4 5 END" }] });
      const ask = { model, max_tokens: 50, stop_sequences: ["END", "STOP"], messages: user("count") };
      const whole = await client.messages.create(ask);
      expect([whole.content, whole.stop_reason, whole.stop_sequence]).toEqual([[{ type: "text", text: "1 2 3 " }], "stop_sequence", "STOP"] as never);
      expect(server.received.at(-1)!.body.stop).toBeUndefined();
      const { text: streamed, final } = await streamText(client.messages.stream(ask));
      expect([streamed, final.stop_reason, final.stop_sequence]).toEqual(["1 2 3 ", "stop_sequence", "STOP"]);
      server.reply = () => ({ items: [{ text: "no stop here" }] });
      expect((await client.messages.create(ask)).stop_reason).toBe("end_turn");
    });
  }

  test("images: forwarded as data URLs; mlx_lm.server's refusal is a clear 400 naming the provider", async () => {
    const content = [{ type: "text" as const, text: "what is it?" }, { type: "image" as const, source: { type: "base64" as const, media_type: "image/png" as const, data: "iVBORw0KGgo=" } }];
    await client.messages.create({ model: "claude-haiku-5", max_tokens: 10, messages: [{ role: "user", content }] });
    expect(vllm.received.at(-1)!.body.messages[0].content[1]).toEqual({ type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } });
    const err = await client.messages.create({ model: "claude-sonnet-5", max_tokens: 10, messages: [{ role: "user", content }] }).catch((e) => e);
    expect(err).toBeInstanceOf(Anthropic.BadRequestError);
    expect(err.error.error.type).toBe("invalid_request_error");
    expect(err.error.error.message).toContain("mlxlm/");
    expect(err.error.error.message).toContain("does not accept images");
  });

  test("a server that ignores stream: true and answers one JSON completion still works", async () => {
    vllm.reply = () => ({ items: [{ reasoning: "hm" }, { text: "whole" }, { tool: { id: "c9", name: "Write", arguments: '{"file_path": "/z", "content": ""}' } }], ignoreStream: true });
    const events = await rawStream({ model: "claude-haiku-5", tools, messages: user("x") });
    expect(streamProblems(events)).toEqual([]);
    const msg = await client.messages.create({ model: "claude-haiku-5", max_tokens: 10, tools, messages: user("x") });
    expect(msg.content).toEqual([{ type: "thinking", thinking: "hm", signature: "" }, { type: "text", text: "whole" }, { type: "tool_use", id: "c9", name: "Write", input: { file_path: "/z", content: "" } }] as never);
    expect(msg.stop_reason).toBe("tool_use");
  });

  test("a client that disconnects mid-stream aborts the upstream request", async () => {
    vllm.reply = () => ({ items: [{ text: "word ".repeat(200) }], pieceDelayMs: 20 });
    const controller = new AbortController();
    const res = await fetch(`${atrad.url}/v1/messages`, {
      method: "POST",
      signal: controller.signal,
      headers: { "content-type": "application/json", "x-api-key": "k" },
      body: JSON.stringify({ model: "claude-haiku-5", max_tokens: 100, stream: true, messages: user("talk") }),
    });
    const reader = res.body!.getReader();
    await reader.read();
    controller.abort();
    const rec = vllm.received.at(-1)!;
    for (let i = 0; i < 100 && !rec.aborted; i++) await Bun.sleep(20);
    expect(rec.aborted).toBe(true);
  });

  test('tools = "none": no tools are sent', async () => {
    await client.messages.create({ model: `notools/${MODEL}`, max_tokens: 10, tools, messages: user("x") });
    expect(vllm.received.at(-1)!.body.tools).toBeUndefined();
  });

  test("models are listed from GET /v1/models, and count_tokens answers", async () => {
    const ids = (await client.models.list()).data.map((m) => m.id);
    expect(ids).toContain(`mlxlm/${MODEL}`);
    expect(ids).toContain(`vllm/${MODEL}`);
    const count = await client.messages.countTokens({ model: "claude-sonnet-5", messages: user("hello there") });
    expect(count.input_tokens).toBeGreaterThan(0);
  });
});

describe("openai kind errors", () => {
  const cases: Array<[string, () => OpenAIStandIn, string, { status: number; body: string }, number, string, string]> = [
    ["mlx 404 string error (model it cannot load)", () => mlx, "claude-sonnet-5", { status: 404, body: '{"error": "Repository Not Found for url: x"}' }, 404, "not_found_error", "Repository Not Found"],
    ["OpenAI-shaped 400", () => vllm, "claude-haiku-5", { status: 400, body: '{"error": {"message": "max_tokens is too large", "type": "BadRequestError", "code": 400}}' }, 400, "invalid_request_error", "max_tokens is too large"],
    ["429 rate limit", () => vllm, "claude-haiku-5", { status: 429, body: '{"error": {"message": "slow down", "code": 429}}' }, 429, "rate_limit_error", "slow down"],
    ["503 busy (string error)", () => mlx, "claude-sonnet-5", { status: 503, body: '{"error": "no slot"}' }, 503, "overloaded_error", "no slot"],
    ["500 plain text", () => mlx, "claude-sonnet-5", { status: 500, body: "Internal Server Error" }, 500, "api_error", "Internal Server Error"],
  ];
  for (const [name, standin, model, reply, status, type, message] of cases) {
    test(name, async () => {
      standin().reply = () => ({ items: [], ...reply });
      const err = await client.messages.create({ model, max_tokens: 10, messages: user("x") }).catch((e) => e);
      expect(err).toBeInstanceOf(Anthropic.APIError);
      expect(err.status).toBe(status);
      expect(err.error).toMatchObject({ type: "error", error: { type } });
      expect(err.error.error.message).toContain(message);
    });
  }

  test("the real mlx_lm 404 for an unknown model arrives as not_found_error", async () => {
    const err = await client.messages.create({ model: "mlxlm/no-such-model", max_tokens: 10, messages: user("x") }).catch((e) => e);
    expect(err).toBeInstanceOf(Anthropic.NotFoundError);
    expect(err.error.error.message).toContain("Repository Not Found");
  });

  test("connection refused on the only target fails fast: 503 that clients do not retry, naming the fix", async () => {
    const err = await client.messages.create({ model: "gone/x", max_tokens: 10, messages: user("x") }).catch((e) => e);
    expect(err.status).toBe(503);
    expect(err.headers.get("x-should-retry")).toBe("false");
    expect(err.error.error.type).toBe("api_error");
    expect(err.error.error.message).toContain("connection refused");
    expect(err.error.error.message).toContain("atrad status");
  });

  for (const [name, reply, message] of [
    ["a stream cut mid-way", { items: [{ text: "partial answer" }], cutAfterChunks: 2 }, "ended the stream mid-response"],
    ["garbage in the stream", { items: [{ text: "x" }], garbage: true }, "not JSON"],
    ["an error chunk after the 200", { items: [{ text: "x" }], errorChunk: { message: "engine died", code: 500 } }, "engine died"],
  ] as const) {
    test(`${name}: streaming ends with an error event, non-streaming with an error`, async () => {
      vllm.reply = () => ({ ...reply }) as never;
      const events = await rawStream({ model: "claude-haiku-5", messages: user("x") });
      expect(events[0]!.type).toBe("message_start");
      const last = events.at(-1)!;
      expect(last.type).toBe("error");
      expect((last as { error: { message: string } }).error.message).toContain(message);
      const err = await client.messages.create({ model: "claude-haiku-5", max_tokens: 10, messages: user("x") }).catch((e) => e);
      expect(err).toBeInstanceOf(Anthropic.APIError);
      expect(err.error.error.message).toContain(message);
    });
  }
});
