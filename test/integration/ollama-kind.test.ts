/**
 * The `ollama` kind over real sockets: the stand-ins proven with the official `ollama` client,
 * then atrad in front of them driven by the official Anthropic SDK.
 */
import Anthropic from "@anthropic-ai/sdk";
import { describe, expect, test } from "bun:test";
import { Ollama } from "ollama";
import { startAtraMlxStandIn } from "../standins/atra-mlx.ts";
import { startOllamaChatStandIn } from "../standins/ollama-chat.ts";
import { atradInFrontOf, readsAnsweredInOrder, streamText } from "../support/gateway.ts";

const Write = { name: "Write", description: "Write a file", input_schema: { type: "object" as const, properties: { file_path: { type: "string" }, content: { type: "string" } }, required: ["file_path", "content"] } };

const standins = { chat: startOllamaChatStandIn({ toolless: ["gemma:2b"], models: ["qwen2.5-coder:7b", "qwen3:8b", "gemma:2b"] }), mlx: startAtraMlxStandIn() };
const { chat, mlx, atrad, client } = await atradInFrontOf(standins, ({ chat, mlx }) => `
[providers.ollama]
kind = "ollama"
url = "${chat.url}"
num_ctx = 32768
[providers.mlx]
kind = "ollama"
url = "${mlx.url}"
tools = "none"
[routes]
default = ["ollama/qwen2.5-coder:7b"]
haiku = ["mlx/qwen2.5-3b"]
`);

describe("stand-ins speak the protocol (official ollama client)", () => {
  test("native /api/chat: streamed thinking, text and a whole tool call; list; 404", async () => {
    const o = new Ollama({ host: chat.url });
    chat.reply = () => ({ items: [{ thinking: "hmm" }, { text: "ok " }, { tool: { name: "Write", arguments: { file_path: "/a" } } }] });
    let thinking = "";
    let text = "";
    const calls: unknown[] = [];
    let last: any;
    for await (const part of await o.chat({ model: "qwen3:8b", messages: [{ role: "user", content: "x" }], stream: true, think: true })) {
      thinking += part.message.thinking ?? "";
      text += part.message.content;
      calls.push(...(part.message.tool_calls ?? []));
      last = part;
    }
    expect({ thinking, text, calls }).toEqual({ thinking: "hmm", text: "ok ", calls: [{ function: { name: "Write", arguments: { file_path: "/a" } } }] });
    expect(last).toMatchObject({ done: true, done_reason: "stop", prompt_eval_count: 21, eval_count: 9 });
    expect((await o.list()).models.map((m) => m.name)).toContain("qwen2.5-coder:7b");
    const err = await o.chat({ model: "nope", messages: [] }).catch((e) => e);
    expect(err).toMatchObject({ status_code: 404, error: 'model "nope" not found, try pulling it first' });
    const noTools = await o.chat({ model: "gemma:2b", messages: [], tools: [{ type: "function", function: { name: "f", parameters: {} } }] as never }).catch((e) => e);
    expect(noTools.status_code).toBe(400);
  });

  test("ATRA MLX: /api/chat and /api/generate stream, /api/tags, 429 and 503 as {error}, /health", async () => {
    const o = new Ollama({ host: mlx.url });
    mlx.reply = () => ({ items: [{ text: "line 1\n  line 2" }] });
    let text = "";
    for await (const part of await o.chat({ model: "phi3.5", messages: [{ role: "user", content: "x" }], stream: true })) text += part.message.content;
    expect(text).toBe("line 1\n  line 2");
    const whole = await o.chat({ model: "phi3.5", messages: [{ role: "user", content: "x" }] });
    expect(whole.message.content).toBe("line 1\n  line 2");
    let gen = "";
    for await (const part of await o.generate({ model: "phi3.5", prompt: "hi", stream: true })) gen += part.response;
    expect(gen).toBe("mlx generated: hi");
    expect((await o.list()).models.map((m) => m.name)).toEqual(["qwen2.5-3b", "phi3.5", "phi3", "tinyllama"]);
    for (const status of [429, 503] as const) {
      mlx.refuse = status;
      const err = await o.chat({ model: "phi3.5", messages: [] }).catch((e) => e);
      mlx.refuse = undefined;
      expect(err.status_code).toBe(status);
      expect(err.error).toMatch(status === 429 ? /Rate limit/ : /No generation slot/);
    }
    mlx.health = "critical";
    const health = await fetch(`${mlx.url}/health`);
    expect(health.status).toBe(200);
    expect(((await health.json()) as any).status).toBe("critical");
    mlx.health = "healthy";
  });
});

describe("ollama kind through atrad (official Anthropic SDK)", () => {
  test("streaming text arrives byte-for-byte, with indentation and blank lines", async () => {
    const text = "def f():\n    return 1\n\n\n\tx = [1,  2]\n";
    chat.reply = () => ({ items: [{ text }] });
    const { text: streamed, final } = await streamText(client.messages.stream({ model: "claude-sonnet-5", max_tokens: 100, messages: [{ role: "user", content: "code" }] }));
    expect(streamed).toBe(text);
    expect(final).toMatchObject({ content: [{ type: "text", text }], stop_reason: "end_turn", usage: { input_tokens: 21, output_tokens: 9 } });
    const sent = chat.received.at(-1);
    expect(sent).toMatchObject({ model: "qwen2.5-coder:7b", stream: true, options: { num_predict: 100, num_ctx: 32768 } });
  });

  test("non-streaming: the gateway aggregates the upstream stream", async () => {
    chat.reply = () => ({ items: [{ text: "whole" }] });
    const msg = await client.messages.create({ model: "claude-sonnet-5", max_tokens: 10, messages: [{ role: "user", content: "x" }] });
    expect(msg.content).toEqual([{ type: "text", text: "whole" }] as never);
    expect(chat.received.at(-1).stream).toBe(true);
  });

  test("thinking and a native tool round trip", async () => {
    chat.reply = (body) => {
      const last = body.messages.at(-1);
      return last.role === "tool" ? { items: [{ text: `wrote: ${last.content}` }] } : { items: [{ thinking: "I should write." }, { tool: { name: "Write", arguments: { file_path: "/tmp/a", content: "hi\n  there" } } }] };
    };
    const first = await client.messages.stream({ model: "ollama/qwen3:8b", max_tokens: 100, tools: [Write], thinking: { type: "enabled", budget_tokens: 1024 }, messages: [{ role: "user", content: "write" }] }).finalMessage();
    expect(first.stop_reason).toBe("tool_use");
    expect(first.content[0]).toMatchObject({ type: "thinking", thinking: "I should write." });
    const call = first.content.find((b) => b.type === "tool_use")!;
    expect(call).toMatchObject({ name: "Write", input: { file_path: "/tmp/a", content: "hi\n  there" } });
    expect(chat.received.at(-1)).toMatchObject({ think: true, tools: [{ type: "function", function: { name: "Write", parameters: Write.input_schema } }] });

    const second = await client.messages.create({
      model: "ollama/qwen3:8b",
      max_tokens: 100,
      tools: [Write],
      messages: [
        { role: "user", content: "write" },
        { role: "assistant", content: first.content as never },
        { role: "user", content: [{ type: "tool_result", tool_use_id: (call as { id: string }).id, content: "File created" }] },
      ],
    });
    expect(second.content).toEqual([{ type: "text", text: "wrote: File created" }] as never);
    expect(chat.received.at(-1).messages.at(-1)).toEqual({ role: "tool", content: "File created", tool_name: "Write" });
    expect(chat.received.at(-1).messages.at(-2).tool_calls).toEqual([{ id: (call as { id: string }).id, function: { name: "Write", arguments: { file_path: "/tmp/a", content: "hi\n  there" } } }]);
  });

  test("ATRA MLX via the ollama kind: text, usage estimated when the server sends no counts", async () => {
    mlx.reply = () => ({ items: [{ text: "from mlx" }] });
    const msg = await client.messages.create({ model: "claude-haiku-5", max_tokens: 50, system: "be brief", messages: [{ role: "user", content: "hello" }] });
    expect(msg.content).toEqual([{ type: "text", text: "from mlx" }] as never);
    expect(msg.usage.input_tokens).toBeGreaterThan(0);
    expect(msg.usage.output_tokens).toBeGreaterThan(0);
    expect(mlx.received.at(-1)!.body).toMatchObject({ model: "qwen2.5-3b", messages: [{ role: "system", content: "be brief" }, { role: "user", content: "hello" }] });
  });

  test("tools = none: tools never reach a server without tool support", async () => {
    mlx.reply = () => ({ items: [{ text: "no tools here" }] });
    await client.messages.create({ model: "claude-haiku-5", max_tokens: 50, tools: [Write], messages: [{ role: "user", content: "x" }] });
    expect("tools" in mlx.received.at(-1)!.body).toBe(false);
  });

  const errors: Array<{ name: string; model: string; set: () => void; cls: any; type: string; message: RegExp }> = [
    { name: "unknown model → 404", model: "ollama/nope:1b", set: () => {}, cls: Anthropic.NotFoundError, type: "not_found_error", message: /model "nope:1b" not found/ },
    { name: "ATRA MLX rate limit → 429", model: "mlx/phi3.5", set: () => (mlx.refuse = 429), cls: Anthropic.RateLimitError, type: "rate_limit_error", message: /Rate limit exceeded/ },
    { name: "ATRA MLX no slot → 503 overloaded", model: "mlx/phi3.5", set: () => (mlx.refuse = 503), cls: Anthropic.InternalServerError, type: "overloaded_error", message: /No generation slot/ },
    { name: "model without tool support → 400", model: "ollama/gemma:2b", set: () => {}, cls: Anthropic.BadRequestError, type: "invalid_request_error", message: /does not support tools/ },
  ];
  for (const c of errors) {
    test(`upstream error: ${c.name}`, async () => {
      c.set();
      const err = await client.messages.create({ model: c.model, max_tokens: 10, tools: [Write], messages: [{ role: "user", content: "x" }] }).catch((e) => e);
      mlx.refuse = undefined;
      expect(err).toBeInstanceOf(c.cls);
      expect(err.error.error.type).toBe(c.type);
      expect(err.error.error.message).toMatch(c.message);
    });
  }

  test("an {error} line mid-stream reaches the client as an error event", async () => {
    chat.reply = () => ({ items: [{ text: "partial answer" }, { text: "never" }], failAfter: 1 });
    const stream = client.messages.stream({ model: "claude-sonnet-5", max_tokens: 100, messages: [{ role: "user", content: "x" }] });
    let streamed = "";
    stream.on("text", (t) => (streamed += t));
    const err = await stream.finalMessage().catch((e) => e);
    expect(streamed).toBe("partial answer");
    expect(String(err?.message ?? err)).toMatch(/unexpected EOF/);
  });

  test("count_tokens and /v1/models cover ollama-kind providers", async () => {
    const count = await client.messages.countTokens({ model: "mlx/phi3.5", system: "be brief", tools: [Write], messages: [{ role: "user", content: "hello there" }] });
    expect(count.input_tokens).toBeGreaterThan(10);
    const ids: string[] = [];
    for await (const m of client.models.list({ limit: 100 })) ids.push(m.id);
    expect(ids).toEqual(expect.arrayContaining(["ollama/qwen2.5-coder:7b", "ollama/qwen3:8b", "mlx/qwen2.5-3b", "mlx/tinyllama"]));
    expect((await client.models.retrieve("mlx/phi3.5")).id).toBe("mlx/phi3.5");
  });
});

const Read = { name: "Read", description: "Read a file", input_schema: { type: "object" as const, properties: { path: { type: "string" } }, required: ["path"] } };

describe("ollama kind: parallel tool results (official Anthropic SDK)", () => {
  // /api/chat pairs a `role: tool` message with a call by position only (tool_name is the same
  // for two Reads); Claude Code sends results in completion order. Like a chat template, this
  // model reads the i-th tool message after a turn as the answer to that turn's i-th call.
  test("results sent in completion order still answer their own calls", async () => {
    chat.reply = (body) => {
      const msgs = body.messages as Array<{ role: string; content: string; tool_name?: string; tool_calls?: Array<{ function: { name: string; arguments: { path: string } } }> }>;
      const at = msgs.findLastIndex((m) => m.role === "assistant" && m.tool_calls?.length);
      if (at < 0) return { items: [{ tool: { name: "Read", arguments: { path: "/a" } } }, { tool: { name: "Read", arguments: { path: "/b" } } }, { tool: { name: "Read", arguments: { path: "/c" } } }] };
      const results = msgs.slice(at + 1).filter((m) => m.role === "tool");
      return { items: [{ text: msgs[at]!.tool_calls!.map((c, i) => `${c.function.arguments.path}=${results[i]?.content}(${results[i]?.tool_name})`).join(" ") }] };
    };
    // Completion order: c, a, b.
    const second = await readsAnsweredInOrder(client, "ollama/qwen2.5-coder:7b", [Read], [2, 0, 1]);
    expect(second.content).toEqual([{ type: "text", text: "/a=contents of /a(Read) /b=contents of /b(Read) /c=contents of /c(Read)" }] as never);
  });
});

describe("ollama kind: what the request asks of the answer (official Anthropic SDK)", () => {
  const M = "ollama/qwen2.5-coder:7b";
  const Time = { name: "get_time", description: "The time", input_schema: { type: "object" as const, properties: { city: { type: "string" } } } };
  const Weather = { name: "get_weather", description: "The weather", input_schema: { type: "object" as const, properties: { city: { type: "string" } } } };

  // Ollama strips a stop string and says only done_reason "stop": atrad finds it itself.
  test('stop_reason "stop_sequence" names the matched string, streaming and not', async () => {
    chat.reply = () => ({ items: [{ text: "one two ##" }, { text: "# three" }] });
    const ask = { model: M, max_tokens: 50, stop_sequences: ["###"], messages: [{ role: "user" as const, content: "count" }] };
    const whole = await client.messages.create(ask);
    expect([whole.content, whole.stop_reason, whole.stop_sequence]).toEqual([[{ type: "text", text: "one two " }], "stop_sequence", "###"] as never);
    expect(chat.received.at(-1)!.options.stop).toBeUndefined();
    const streamed = await client.messages.stream(ask).finalMessage();
    expect([streamed.content, streamed.stop_reason, streamed.stop_sequence]).toEqual([[{ type: "text", text: "one two " }], "stop_sequence", "###"] as never);
  });

  // /api/chat has no tool_choice: the forced tool is the only one offered, and the model is told.
  test("a forced tool_choice sends only that tool, with a rule at the end of the prompt", async () => {
    chat.reply = (body) => ({ items: [{ tool: { name: body.tools[0].function.name, arguments: { city: "Oslo" } } }] });
    const msg = await client.messages.create({ model: M, max_tokens: 50, tools: [Weather, Time], tool_choice: { type: "tool", name: "get_time" }, messages: [{ role: "user", content: "what now in Oslo?" }] });
    expect(msg.content).toEqual([expect.objectContaining({ type: "tool_use", name: "get_time", input: { city: "Oslo" } })]);
    const sent = chat.received.at(-1)!;
    expect(sent.tools.map((t: { function: { name: string } }) => t.function.name)).toEqual(["get_time"]);
    expect(sent.messages.at(-1).content).toBe('what now in Oslo?\n\n<system-reminder>\nYou must call the tool "get_time" in this answer.\n</system-reminder>');
    // The system prompt is not touched (it heads the prefix cache).
    expect(sent.messages.filter((m: { role: string }) => m.role === "system")).toEqual([]);
  });

  test("tool_choice any keeps every tool and says a call is required; disable_parallel_tool_use keeps one call", async () => {
    chat.reply = () => ({ items: [{ tool: { name: "get_weather", arguments: { city: "A" } } }, { tool: { name: "get_time", arguments: { city: "B" } } }] });
    const msg = await client.messages.create({ model: M, max_tokens: 50, tools: [Weather, Time], tool_choice: { type: "any", disable_parallel_tool_use: true }, messages: [{ role: "user", content: "go" }] });
    expect(msg.content).toEqual([expect.objectContaining({ type: "tool_use", name: "get_weather" })]);
    const sent = chat.received.at(-1)!;
    expect(sent.tools).toHaveLength(2);
    expect(sent.messages.at(-1).content).toContain("Call at most one tool per answer.\nYou must call at least one tool in this answer.");
  });

  test("output_config.format becomes Ollama's format (the JSON schema) and an instruction", async () => {
    const schema = { type: "object", properties: { answer: { type: "integer" } }, required: ["answer"], additionalProperties: false };
    chat.reply = () => ({ items: [{ text: '{"answer": 4}' }] });
    const body = { model: M, max_tokens: 50, output_config: { format: { type: "json_schema", schema } }, messages: [{ role: "user", content: "2+2" }] };
    const msg = await client.messages.create(body as never);
    expect(msg.content).toEqual([{ type: "text", text: '{"answer": 4}' }] as never);
    expect(chat.received.at(-1)!.format).toEqual(schema);
    // Said in the prompt too, at its end (servers of this dialect without `format` still know).
    expect(chat.received.at(-1)!.messages.at(-1).content).toEndWith(`${JSON.stringify(schema)}\n</system-reminder>`);
  });
});

describe("ollama kind: the model's own turn goes back as it was (official Anthropic SDK)", () => {
  // Claude Code sends every Edit back re-serialised, `replace_all: false` added first; the
  // template would render the call differently from what the model wrote and lose the cache.
  test("an Edit call keeps the model's key order and no added replace_all", async () => {
    const Edit = { name: "Edit", description: "Edit a file", input_schema: { type: "object" as const, properties: { file_path: { type: "string" }, old_string: { type: "string" }, new_string: { type: "string" }, replace_all: { type: "boolean" } } } };
    chat.reply = (body) => (body.messages.at(-1).role === "tool" ? { items: [{ text: "done" }] } : { items: [{ tool: { name: "Edit", arguments: { file_path: "/a.py", old_string: "x = 1", new_string: "x = 2" } } }] });
    const ask = { role: "user" as const, content: "edit" };
    const first = await client.messages.create({ model: "ollama/qwen2.5-coder:7b", max_tokens: 100, tools: [Edit], messages: [ask] });
    const use = first.content[0] as { id: string };
    const resent = { type: "tool_use" as const, id: use.id, name: "Edit", input: { replace_all: false, file_path: "/a.py", new_string: "x = 2", old_string: "x = 1" } };
    await client.messages.create({ model: "ollama/qwen2.5-coder:7b", max_tokens: 100, tools: [Edit], messages: [ask, { role: "assistant", content: [resent] }, { role: "user", content: [{ type: "tool_result", tool_use_id: use.id, content: "ok" }] }] });
    const sent = chat.received.at(-1)!.messages.find((m: { role: string }) => m.role === "assistant");
    expect(JSON.stringify(sent.tool_calls[0].function.arguments)).toBe('{"file_path":"/a.py","old_string":"x = 1","new_string":"x = 2"}');
  });
});

