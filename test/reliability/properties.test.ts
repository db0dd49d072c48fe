/**
 * Property-based tests (fast-check) on every translation function. Requests: any request the
 * gateway's schema admits translates without throwing (or throws only an Anthropic 4xx error,
 * never a TypeError that would become a 500) into a valid body for the target protocol.
 * Streams: any upstream byte sequence — random chunks, random splits of SSE/NDJSON lines,
 * random tool calls, garbage — becomes a well-formed Anthropic event sequence as the client
 * sees it (through guardStream), and the non-streaming aggregator folds it or throws an
 * Anthropic error.
 */
import { describe, expect, test } from "bun:test";
import { normalise } from "../../src/anthropic/normalise.ts";
import fc from "fast-check";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { AtradError } from "../../src/anthropic/errors.ts";
import { countRequestTokens, estimateRequestTokens } from "../../src/tokens/count.ts";
import { MessagesRequestSchema, type MessagesRequest } from "../../src/anthropic/schema.ts";
import { parseSse } from "../../src/wire/sse.ts";
import { aggregateStream, guardStream, messageToEvents } from "../../src/anthropic/stream.ts";
import type { Message, StreamEvent } from "../../src/anthropic/types.ts";
import { fromUpstreamEvent, toUpstreamRequest } from "../../src/providers/anthropic/translate.ts";
import { toOllamaChat } from "../../src/providers/ollama/request.ts";
import { ndjsonEvents } from "../../src/providers/ollama/adapter.ts";
import { OllamaStreamConverter } from "../../src/providers/ollama/stream.ts";
import { toChatRequest } from "../../src/providers/openai/request.ts";
import { StreamConverter } from "../../src/providers/openai/stream.ts";
import { toPromptToolsRequest } from "../../src/providers/prompt-tools/request.ts";
import { PromptToolsStream } from "../../src/providers/prompt-tools/stream.ts";
import { toRunBody } from "../../src/providers/victoria/request.ts";
import { AnswerEvents, answerOf, type RunResult, type RunUpdate } from "../../src/providers/victoria/response.ts";
import { convertAll, convertStream } from "../../src/anthropic/converter.ts";
import { wellFormedProblems } from "./support.ts";

const checkRequest = TypeCompiler.Compile(MessagesRequestSchema);

const RUNS = Number(process.env.ATRAD_PROPERTY_RUNS ?? 300);
const params = { numRuns: RUNS };

// ---------- request generators ----------

const TOOL_NAMES = ["Read", "Write", "Bash", "Edit", "mcp__x__y"];
const text = fc.oneof(fc.string(), fc.string({ unit: "binary" }), fc.constantFrom("", " ", "\n", "x-anthropic-billing-header: cc_version=2", "<tool_call>", "{\"name\":\"Read\"}"));
const id = fc.oneof(fc.stringMatching(/^toolu_[a-z0-9]{4,12}$/), fc.string());
const jsonObject = fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 4 });
const extra = fc.dictionary(fc.stringMatching(/^[a-z_]{1,10}$/).filter((k) => !["type", "text", "role", "content", "model", "messages", "max_tokens", "source", "id", "name", "input", "tool_use_id", "thinking"].includes(k)), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 2 });

const textBlock = fc.record({ type: fc.constant("text"), text }, { requiredKeys: ["type", "text"] });
const imageBlock = fc.oneof(
  fc.record({ type: fc.constant("image"), source: fc.record({ type: fc.constant("base64"), media_type: fc.constantFrom("image/png", "image/jpeg"), data: fc.base64String({ maxLength: 16 }) }) }),
  fc.record({ type: fc.constant("image"), source: fc.record({ type: fc.constant("url"), url: fc.webUrl() }) }),
);
const toolUseBlock = fc.record({ type: fc.constant("tool_use"), id, name: fc.constantFrom(...TOOL_NAMES), input: jsonObject });
const toolResultBlock = fc.record(
  {
    type: fc.constant("tool_result"),
    tool_use_id: id,
    content: fc.oneof(text, fc.array(fc.oneof(textBlock, imageBlock), { maxLength: 3 })),
    is_error: fc.boolean(),
  },
  { requiredKeys: ["type", "tool_use_id"] },
);
const thinkingBlock = fc.record({ type: fc.constant("thinking"), thinking: text, signature: fc.string() }, { requiredKeys: ["type", "thinking"] });
const otherBlock = fc.record({ type: fc.constantFrom("redacted_thinking", "document", "server_tool_use", "web_search_tool_result", "container_upload"), data: fc.string() });
const strictBlock = fc.oneof(textBlock, imageBlock, toolUseBlock, toolResultBlock, thinkingBlock, otherBlock);
/** Anything the schema admits: a `type` string and whatever else, of any JSON type. */
const looseBlock = fc.oneof(
  strictBlock,
  fc.record({ type: fc.constantFrom("text", "image", "tool_use", "tool_result", "thinking", "x"), text: fc.jsonValue({ maxDepth: 1 }), source: fc.jsonValue({ maxDepth: 2 }), input: fc.jsonValue({ maxDepth: 2 }), content: fc.jsonValue({ maxDepth: 2 }), name: fc.jsonValue({ maxDepth: 0 }), id: fc.jsonValue({ maxDepth: 0 }), thinking: fc.jsonValue({ maxDepth: 0 }), tool_use_id: fc.jsonValue({ maxDepth: 0 }) }, { requiredKeys: ["type"] }),
);

function requestArb(block: fc.Arbitrary<Record<string, unknown>>) {
  const message = fc.record({
    role: fc.constantFrom("user", "assistant", "system"),
    content: fc.oneof(text, fc.array(block, { maxLength: 4 })),
  });
  const tool = fc.record(
    {
      name: fc.oneof(fc.constantFrom(...TOOL_NAMES), fc.string({ minLength: 1 })),
      description: fc.string(),
      input_schema: fc.oneof(fc.constant({ type: "object", properties: { path: { type: "string" } }, required: ["path"] }), jsonObject),
    },
    { requiredKeys: ["name"] },
  );
  const toolChoice = fc.oneof(
    fc.record({ type: fc.constantFrom("auto", "any", "none") }),
    fc.record({ type: fc.constant("tool"), name: fc.constantFrom(...TOOL_NAMES) }),
    fc.record({ type: fc.constantFrom("auto", "any"), disable_parallel_tool_use: fc.boolean() }),
    fc.record({ type: fc.string() }),
  );
  return fc
    .record(
      {
        model: fc.string({ minLength: 1 }),
        messages: fc.array(message, { minLength: 0, maxLength: 5 }),
        max_tokens: fc.integer({ min: 1, max: 1_000_000 }),
        system: fc.oneof(text, fc.array(block, { maxLength: 3 })),
        stream: fc.boolean(),
        tools: fc.array(tool, { maxLength: 3 }),
        tool_choice: toolChoice,
        temperature: fc.double({ noNaN: true, noDefaultInfinity: true, min: -2, max: 2 }),
        top_p: fc.double({ noNaN: true, noDefaultInfinity: true, min: 0, max: 1 }),
        top_k: fc.integer({ min: 0, max: 100 }),
        stop_sequences: fc.array(fc.string(), { maxLength: 3 }),
        thinking: fc.oneof(fc.record({ type: fc.constant("enabled"), budget_tokens: fc.integer({ min: 0, max: 100000 }) }), fc.record({ type: fc.constantFrom("disabled", "adaptive") }), fc.record({ type: fc.constant("adaptive"), display: fc.constant("omitted") })),
        metadata: fc.record({ user_id: fc.oneof(fc.string(), fc.constant('{"session_id":"s1"}')) }),
        output_config: fc.record({ effort: fc.constantFrom("low", "medium", "high", "max") }),
      },
      { requiredKeys: ["model", "messages", "max_tokens"] },
    )
    .chain((req) => extra.map((x) => ({ ...x, ...req })))
    .filter((r) => checkRequest.Check(r)) as fc.Arbitrary<MessagesRequest>;
}

const strictRequest = requestArb(strictBlock as fc.Arbitrary<Record<string, unknown>>);
const looseRequest = requestArb(looseBlock as fc.Arbitrary<Record<string, unknown>>);

/** A translation may refuse with an Anthropic error (a 4xx the client can act on), nothing else. */
function translateOrRefuse<T>(fn: () => T, allowedRefusals: RegExp | null): T | undefined {
  try {
    return fn();
  } catch (err) {
    if (err instanceof AtradError && err.status < 500 && allowedRefusals && allowedRefusals.test(err.message)) return undefined;
    throw err;
  }
}

const isObj = (x: unknown): x is Record<string, unknown> => !!x && typeof x === "object" && !Array.isArray(x);
const roundTrips = (x: unknown) => expect(JSON.parse(JSON.stringify(x))).toEqual(JSON.parse(JSON.stringify(x)));

function checkChatRequest(out: any, model: string) {
  roundTrips(out);
  expect(out.model).toBe(model);
  expect(out.stream).toBe(true);
  expect(Number.isInteger(out.max_tokens) && out.max_tokens > 0).toBe(true);
  expect(Array.isArray(out.messages)).toBe(true);
  for (const m of out.messages) {
    expect(["system", "user", "assistant", "tool"]).toContain(m.role);
    if (m.role === "system" || m.role === "tool") expect(typeof m.content).toBe("string");
    if (m.role === "tool") expect(typeof m.tool_call_id).toBe("string");
    if (m.role === "assistant") {
      expect(m.content === null || typeof m.content === "string").toBe(true);
      for (const c of m.tool_calls ?? []) {
        expect(typeof c.id).toBe("string");
        expect(c.type).toBe("function");
        expect(typeof c.function.name).toBe("string");
        expect(typeof c.function.arguments).toBe("string");
        expect(isObj(JSON.parse(c.function.arguments))).toBe(true);
      }
    }
    if (m.role === "user") {
      if (Array.isArray(m.content)) {
        for (const p of m.content) {
          if (p.type === "text") expect(typeof p.text).toBe("string");
          else {
            expect(p.type).toBe("image_url");
            expect(typeof p.image_url.url).toBe("string");
          }
        }
      } else expect(typeof m.content).toBe("string");
    }
  }
  for (const t of out.tools ?? []) {
    expect(t.type).toBe("function");
    expect(typeof t.function.name).toBe("string");
    expect(isObj(t.function.parameters)).toBe(true);
  }
  if (out.tool_choice !== undefined) expect(["auto", "required", "none"].includes(out.tool_choice) || (isObj(out.tool_choice) && typeof (out.tool_choice as any).function?.name === "string")).toBe(true);
  if (out.stop !== undefined) expect(out.stop.every((s: unknown) => typeof s === "string")).toBe(true);
}

function checkOllamaChat(out: any, model: string) {
  roundTrips(out);
  expect(out.model).toBe(model);
  expect(out.stream).toBe(true);
  expect(isObj(out.options)).toBe(true);
  if (out.think !== undefined) expect(typeof out.think).toBe("boolean");
  for (const m of out.messages) {
    expect(["system", "user", "assistant", "tool"]).toContain(m.role);
    expect(typeof m.content).toBe("string");
    for (const img of m.images ?? []) expect(typeof img).toBe("string");
    if (m.thinking !== undefined) expect(typeof m.thinking).toBe("string");
    for (const c of m.tool_calls ?? []) {
      expect(typeof c.function.name).toBe("string");
      expect(isObj(c.function.arguments)).toBe(true);
    }
  }
  for (const t of out.tools ?? []) expect(typeof t.function.name).toBe("string");
}

function checkRunBody(out: any) {
  roundTrips(out);
  expect(typeof out.goal).toBe("string");
  for (const h of out.chat_history ?? []) {
    expect(typeof h.role).toBe("string");
    expect(typeof h.content).toBe("string");
  }
  for (const i of out.images_base64 ?? []) expect(typeof i).toBe("string");
  if (out.project_context !== undefined) expect(typeof out.project_context).toBe("string");
}

describe("property: every valid request translates into a valid upstream request", () => {
  for (const [label, arb] of [["strict blocks", strictRequest], ["any schema-valid blocks", looseRequest]] as const) {
    test(`openai toChatRequest (${label})`, () => {
      fc.assert(
        fc.property(arb, fc.constantFrom("native", "prompt", "none"), (req, tools) => {
          const out = translateOrRefuse(() => toChatRequest(normalise(structuredClone(req)), "qwen", { tools: tools as never }), null);
          checkChatRequest(out, "qwen");
        }),
        params,
      );
    });

    test(`ollama toOllamaChat (${label})`, () => {
      fc.assert(
        fc.property(arb, fc.boolean(), fc.option(fc.integer({ min: 1, max: 1 << 20 }), { nil: undefined }), (req, nativeTools, numCtx) => {
          // URL images cannot travel over /api/chat: that refusal is a documented 400.
          const out = translateOrRefuse(() => toOllamaChat(normalise(structuredClone(req)), "qwen3:8b", { nativeTools, numCtx }), /images must be base64/);
          if (out) checkOllamaChat(out, "qwen3:8b");
        }),
        params,
      );
    });

    test(`victoria toRunBody (${label})`, () => {
      fc.assert(
        fc.property(arb, fc.constantFrom<"keep" | "drop" | number>("keep", "drop", 100), fc.option(fc.integer({ min: 1, max: 50 }), { nil: undefined }), (req, projectContext, maxSteps) => {
          const out = translateOrRefuse(() => toRunBody(normalise(structuredClone(req)), { projectContext, maxSteps, sessionId: "s" }), /needs a goal|user turn/);
          if (out) checkRunBody(out);
        }),
        params,
      );
    });

    test(`prompt-tools toPromptToolsRequest (${label})`, () => {
      fc.assert(
        fc.property(arb, (req) => {
          const out = translateOrRefuse(() => toPromptToolsRequest(normalise(structuredClone(req))), null)!;
          roundTrips(out);
          expect(checkRequest.Check(out)).toBe(true);
          expect(out.tools).toBeUndefined();
          expect(out.tool_choice).toBeUndefined();
          for (const m of out.messages) if (Array.isArray(m.content)) for (const b of m.content) expect(["tool_use", "tool_result"]).not.toContain(b.type);
          // And what the wrapped adapter then sends is valid too.
          checkChatRequest(toChatRequest(normalise(out), "m", { tools: "native" }), "m");
        }),
        params,
      );
    });

    test(`countRequestTokens and estimateRequestTokens (${label}): a count for every admitted request`, async () => {
      await fc.assert(
        fc.asyncProperty(arb, async (req) => {
          for (const n of [await countRequestTokens(req as never), estimateRequestTokens(req as never)]) expect(Number.isInteger(n) && n >= 0).toBe(true);
        }),
        params,
      );
    });

    test(`anthropic toUpstreamRequest (${label})`, () => {
      fc.assert(
        fc.property(arb, (req) => {
          const out = translateOrRefuse(() => toUpstreamRequest(normalise(structuredClone(req)), "qwen3:8b"), null)!;
          roundTrips(out);
          expect(checkRequest.Check(out)).toBe(true);
          expect(out.model).toBe("qwen3:8b");
          // The system prompt keeps its shape: as many blocks, of the same types, in order.
          if (Array.isArray(req.system)) expect((out.system as Array<{ type: string }>).map((b) => b.type)).toEqual(req.system.map((b) => b.type));
          else expect(out.system).toEqual(req.system);
          // Unknown fields travel unchanged (betas and their body fields go in pairs).
          for (const k of Object.keys(req)) if (!["model", "system", "messages"].includes(k)) expect((out as any)[k]).toEqual((req as any)[k]);
          // Messages stay as they were, but for system notes placed as user text.
          expect(out.messages.some((m) => m.role === "system")).toBe(false);
          if (!req.messages.some((m) => m.role === "system")) expect(out.messages).toEqual(req.messages);
        }),
        params,
      );
    });
  }
});

// ---------- stream helpers ----------

async function collect(events: AsyncIterable<StreamEvent>): Promise<StreamEvent[]> {
  const out: StreamEvent[] = [];
  for await (const e of events) out.push(e);
  return out;
}

/** Split `bytes` at the given cut points into a ReadableStream of chunks. */
function chunked(text: string, cuts: number[]): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const parts: Uint8Array[] = [];
  let prev = 0;
  for (const p of [...points, bytes.length]) {
    if (p > prev) parts.push(bytes.slice(prev, p));
    prev = Math.max(prev, p);
  }
  return new ReadableStream({
    pull(c) {
      const next = parts.shift();
      if (next) c.enqueue(next);
      else c.close();
    },
  });
}

/** How many generated streams ended each way, and how many carried a tool call (coverage). */
const seen = { message_stop: 0, error: 0, tool_use: 0 };

/** What the gateway does with any event source: a stream, and a folded Message. */
async function clientViews(make: () => AsyncIterable<StreamEvent>) {
  const streamed = await collect(guardStream(make(), "up/m"));
  expect(wellFormedProblems(streamed)).toEqual([]);
  seen[streamed.at(-1)!.type as "error"]++;
  if (streamed.some((e) => e.type === "content_block_start" && e.content_block.type === "tool_use")) seen.tool_use++;
  let message: Message | undefined;
  try {
    message = await aggregateStream(guardStream(make(), "up/m"));
  } catch (err) {
    expect(err).toBeInstanceOf(AtradError);
  }
  if (message) {
    expect(Array.isArray(message.content)).toBe(true);
    for (const b of message.content) if (b.type === "tool_use") expect(isObj((b as { input: unknown }).input)).toBe(true);
    roundTrips(message);
  }
  return streamed;
}

// ---------- openai kind: SSE chat-completion chunks ----------

const fragment = fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('{"path": "a.ts"}', '{"path": ', '"a"}', "{", "}", "null", "[1]", '{"a":1}{"b":2}'));
const openaiPayload = fc.oneof(
  { weight: 5, arbitrary: fc.record({ c: fc.string({ unit: "binary", maxLength: 12 }) }).map(({ c }) => JSON.stringify({ choices: [{ index: 0, delta: { content: c } }] })) },
  { weight: 2, arbitrary: fc.string({ maxLength: 12 }).map((r) => JSON.stringify({ choices: [{ delta: { reasoning_content: r } }] })) },
  {
    weight: 4,
    arbitrary: fc
      .record(
        { index: fc.integer({ min: 0, max: 3 }), id: fc.oneof(fc.constantFrom("call_1", "call_2", "bad id!", ""), fc.string()), name: fc.oneof(fc.constantFrom("Read", "Write", ""), fc.string({ maxLength: 5 })), arguments: fc.oneof(fragment, jsonObject, fc.jsonValue({ maxDepth: 1 })) },
        { requiredKeys: [] },
      )
      .map(({ index, id, name, arguments: args }) => JSON.stringify({ choices: [{ index: 0, delta: { tool_calls: [{ ...(index !== undefined ? { index } : {}), ...(id !== undefined ? { id } : {}), function: { ...(name !== undefined ? { name } : {}), ...(args !== undefined ? { arguments: args } : {}) } }] } }] })),
  },
  { weight: 2, arbitrary: fc.oneof(fc.constantFrom("stop", "length", "tool_calls", "content_filter", "function_call"), fc.string()).map((r) => JSON.stringify({ choices: [{ index: 0, delta: {}, finish_reason: r }] })) },
  { weight: 1, arbitrary: fc.record({ prompt_tokens: fc.oneof(fc.nat(), fc.jsonValue({ maxDepth: 0 })), completion_tokens: fc.oneof(fc.nat(), fc.jsonValue({ maxDepth: 0 })), prompt_tokens_details: fc.jsonValue({ maxDepth: 1 }) }).map((usage) => JSON.stringify({ choices: [], usage })) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }).map((error) => JSON.stringify({ error })) },
  { weight: 1, arbitrary: fc.constant("[DONE]") },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((j) => JSON.stringify(j)) },
  { weight: 1, arbitrary: fc.record({ choices: fc.jsonValue({ maxDepth: 2 }) }).map((j) => JSON.stringify(j)) },
);

function sseText(payloads: string[], crlf: boolean, comments: boolean): string {
  const nl = crlf ? "\r\n" : "\n";
  return payloads.map((p, i) => `${comments && i % 3 === 0 ? `: keep-alive${nl}` : ""}data: ${p.replaceAll("\n", " ")}${nl}${nl}`).join("");
}

/** The openai adapter's pipeline (src/providers/openai/adapter.ts `convert`), over a byte stream. */
async function* openaiPipeline(body: ReadableStream<Uint8Array>, stopSequences?: string[]): AsyncGenerator<StreamEvent> {
  const converter = new StreamConverter({ model: "m", inputTokens: 3, label: "up/m", stopSequences });
  yield* converter.start();
  for await (const msg of parseSse(body)) yield* converter.push(msg.data);
  yield* converter.end();
}

// ---------- ollama kind: NDJSON ----------

const ollamaLine = fc.oneof(
  { weight: 5, arbitrary: fc.string({ unit: "binary", maxLength: 12 }).map((content) => JSON.stringify({ message: { role: "assistant", content }, done: false })) },
  { weight: 2, arbitrary: fc.string({ maxLength: 12 }).map((thinking) => JSON.stringify({ message: { role: "assistant", content: "", thinking }, done: false })) },
  {
    weight: 3,
    arbitrary: fc
      .array(fc.record({ id: fc.option(fc.string(), { nil: undefined }), function: fc.record({ name: fc.oneof(fc.constantFrom("Read", "Bash", ""), fc.string({ maxLength: 4 })), arguments: fc.oneof(jsonObject, fc.jsonValue({ maxDepth: 2 }), fragment) }, { requiredKeys: [] }) }, { requiredKeys: ["function"] }), { maxLength: 3 })
      .map((tool_calls) => JSON.stringify({ message: { role: "assistant", content: "", tool_calls }, done: false })),
  },
  {
    weight: 2,
    arbitrary: fc
      .record({ done_reason: fc.oneof(fc.constantFrom("stop", "length", "load"), fc.string()), prompt_eval_count: fc.oneof(fc.nat(), fc.jsonValue({ maxDepth: 0 })), eval_count: fc.oneof(fc.nat(), fc.jsonValue({ maxDepth: 0 })) }, { requiredKeys: [] })
      .map((r) => JSON.stringify({ message: { role: "assistant", content: "" }, done: true, ...r })),
  },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }).map((error) => JSON.stringify({ error })) },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }).map((s) => s.replaceAll("\n", " ")) },
  { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((j) => JSON.stringify(j)) },
  { weight: 1, arbitrary: fc.record({ message: fc.jsonValue({ maxDepth: 2 }), done: fc.jsonValue({ maxDepth: 0 }) }).map((j) => JSON.stringify(j)) },
);

/** The ollama adapter's own pipeline over a byte stream. */
const ollamaPipeline = (body: ReadableStream<Uint8Array>) => ndjsonEvents(body, new OllamaStreamConverter({ model: "m", inputTokens: 3 }));

// ---------- anthropic kind: relayed SSE ----------

const anthropicFrame = fc.oneof(
  fc.constantFrom(
    ["message_start", JSON.stringify({ type: "message_start", message: { id: "m", type: "message", role: "assistant", model: "m", content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 1, output_tokens: 0 } } })],
    ["content_block_start", JSON.stringify({ type: "content_block_start", index: 0, content_block: { type: "text", text: "" } })],
    ["content_block_delta", JSON.stringify({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "hi" } })],
    ["content_block_stop", JSON.stringify({ type: "content_block_stop", index: 0 })],
    ["message_delta", JSON.stringify({ type: "message_delta", delta: { stop_reason: "end_turn" }, usage: { output_tokens: 1 } })],
    ["message_stop", JSON.stringify({ type: "message_stop" })],
    ["ping", JSON.stringify({ type: "ping" })],
    ["error", JSON.stringify({ type: "error", error: { type: "overloaded_error", message: "busy" } })],
  ),
  fc.tuple(fc.string({ maxLength: 8 }), fc.string({ maxLength: 16 })),
  fc.tuple(fc.constant("content_block_delta"), fc.jsonValue({ maxDepth: 2 }).map((j) => JSON.stringify(j))),
);

describe("property: tool results answer their own calls on kinds without ids", () => {
  // Calls (some of one tool, so names alone are ambiguous), the results in any order, maybe an
  // earlier round trip and trailing user text: each result must reach the upstream in its call's place.
  const round = fc
    .array(fc.constantFrom("Read", "Bash", "Edit"), { minLength: 1, maxLength: 6 })
    .chain((names) => fc.tuple(fc.constant(names), fc.shuffledSubarray(names.map((_, i) => i), { minLength: names.length, maxLength: names.length })));
  const requestOf = ([names, order]: [string[], number[]], earlier: boolean, text: boolean): MessagesRequest => {
    const id = (i: number) => `toolu_${i}`;
    const history = earlier
      ? [{ role: "assistant", content: [{ type: "tool_use", id: "toolu_old", name: "Read", input: {} }] }, { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_old", content: "old" }] }]
      : [];
    return {
      model: "m",
      max_tokens: 10,
      messages: [
        { role: "user", content: "go" },
        ...history,
        { role: "assistant", content: names.map((name, i) => ({ type: "tool_use", id: id(i), name, input: { n: i } })) },
        { role: "user", content: [...order.map((i) => ({ type: "tool_result", tool_use_id: id(i), content: `result ${i}` })), ...(text ? [{ type: "text", text: "more" }] : [])] },
      ],
    } as MessagesRequest;
  };

  test("ollama /api/chat: the i-th tool message after a turn answers its i-th call", () => {
    fc.assert(
      fc.property(round, fc.boolean(), fc.boolean(), (r, earlier, text) => {
        const out = toOllamaChat(normalise(requestOf(r, earlier, text)), "m", { nativeTools: true });
        const at = out.messages.findLastIndex((m) => m.role === "assistant");
        const calls = out.messages[at]!.tool_calls!;
        const tools = out.messages.slice(at + 1).filter((m) => m.role === "tool");
        expect(tools.map((t) => [t.content, t.tool_name])).toEqual(calls.map((c) => [`result ${c.function.arguments.n}`, c.function.name]));
      }),
      params,
    );
  });

  test("prompt tools: the i-th <tool_result> answers the i-th <tool_call>, and says so", () => {
    fc.assert(
      fc.property(round, fc.boolean(), fc.boolean(), (r, earlier, text) => {
        const out = toPromptToolsRequest(normalise(requestOf(r, earlier, text)));
        const texts = (m: MessagesRequest["messages"][number]) => (typeof m.content === "string" ? m.content : m.content.map((b) => (b as { text?: string }).text ?? "").join("\n"));
        const calls = [...texts(out.messages.at(-2)!).matchAll(/<tool_call>\n(.*?)\n<\/tool_call>/gs)].map((m) => JSON.parse(m[1]!) as { name: string; arguments: { n: number } });
        const results = [...texts(out.messages.at(-1)!).matchAll(/<tool_result call="(\d+)" name="(\w+)">\nresult (\d+)\n/g)].map((m) => [Number(m[1]), m[2], Number(m[3])]);
        expect(results).toEqual(calls.map((c, i) => [i + 1, c.name, c.arguments.n]));
      }),
      params,
    );
  });
});

describe("property: any upstream byte stream becomes a well-formed Anthropic event sequence", () => {
  test("the checker itself rejects malformed sequences", () => {
    const start: StreamEvent = { type: "message_start", message: { id: "m", type: "message", role: "assistant", model: "m", content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 0, output_tokens: 0 } } };
    const bad: StreamEvent[][] = [
      [],
      [start],
      [start, { type: "content_block_start", index: 1, content_block: { type: "text", text: "" } }, { type: "error", error: { type: "api_error", message: "x" } }],
      [start, { type: "content_block_start", index: 0, content_block: { type: "text", text: "" } }, { type: "message_delta", delta: {} }, { type: "message_stop" }],
      [start, { type: "content_block_delta", index: 0, delta: { type: "text_delta", text: "x" } }, { type: "message_delta", delta: {} }, { type: "message_stop" }],
      [start, { type: "message_delta", delta: {} }, { type: "message_stop" }, { type: "ping" }, { type: "message_stop" }],
      [start, { type: "content_block_start", index: 0, content_block: { type: "tool_use", id: "t", name: "R", input: {} } }, { type: "content_block_delta", index: 0, delta: { type: "input_json_delta", partial_json: "[1]" } }, { type: "content_block_stop", index: 0 }, { type: "message_delta", delta: {} }, { type: "message_stop" }],
    ];
    for (const seq of bad) expect(wellFormedProblems(seq).length).toBeGreaterThan(0);
    expect(wellFormedProblems([start, { type: "message_delta", delta: {} }, { type: "message_stop" }])).toEqual([]);
  });

  test("openai kind: random chunks, random SSE splits, tool-call fragments, garbage", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(openaiPayload, { maxLength: 14 }), fc.array(fc.nat(), { maxLength: 8 }), fc.boolean(), fc.boolean(), async (payloads, cuts, crlf, comments) => {
        const text = sseText(payloads, crlf, comments);
        await clientViews(() => openaiPipeline(chunked(text, cuts), ["END"]));
      }),
      params,
    );
  });

  test("ollama kind: random NDJSON lines split anywhere, tool calls, error lines, garbage", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(ollamaLine, { maxLength: 14 }), fc.array(fc.nat(), { maxLength: 8 }), fc.boolean(), async (lines, cuts, trailingNewline) => {
        const text = lines.join("\n") + (trailingNewline ? "\n" : "");
        await clientViews(() => ollamaPipeline(chunked(text, cuts)));
      }),
      params,
    );
  });

  test("prompt tools over any well-formed text stream: calls parsed out, blocks renumbered", async () => {
    const piece = fc.oneof(
      fc.string({ maxLength: 8 }),
      fc.constantFrom("<tool_call>", "</tool_call>", '{"name": "Read", "arguments": {"path": "a"}}', '{"name": "Nope", "arguments": {}}', "```json\n", "```", "\n", "{", "<", "<tool_", "call>", '"arguments": ', "<tool_use>", "[{\"name\":\"Bash\",\"input\":{\"c\":1}}]"),
    );
    const block = fc.oneof(
      { weight: 4, arbitrary: fc.array(piece, { minLength: 0, maxLength: 8 }).map((pieces) => ({ kind: "text" as const, pieces })) },
      { weight: 1, arbitrary: fc.string({ maxLength: 6 }).map((t) => ({ kind: "thinking" as const, pieces: [t] })) },
      { weight: 1, arbitrary: fc.constant({ kind: "tool" as const, pieces: ['{"path":"x"}'] }) },
    );
    await fc.assert(
      fc.asyncProperty(fc.array(block, { maxLength: 5 }), fc.constantFrom("stop", "error", "cut"), async (blocks, ending) => {
        function* upstream(): Generator<StreamEvent> {
          yield { type: "message_start", message: { id: "m", type: "message", role: "assistant", model: "m", content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 1, output_tokens: 0 } } };
          for (const [index, b] of blocks.entries()) {
            if (b.kind === "text") {
              yield { type: "content_block_start", index, content_block: { type: "text", text: "" } };
              for (const p of b.pieces) yield { type: "content_block_delta", index, delta: { type: "text_delta", text: p } };
            } else if (b.kind === "thinking") {
              yield { type: "content_block_start", index, content_block: { type: "thinking", thinking: "" } };
              for (const p of b.pieces) yield { type: "content_block_delta", index, delta: { type: "thinking_delta", thinking: p } };
            } else {
              yield { type: "content_block_start", index, content_block: { type: "tool_use", id: "toolu_n", name: "Read", input: {} } };
              yield { type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json: b.pieces[0]! } };
            }
            yield { type: "content_block_stop", index };
          }
          if (ending === "error") yield { type: "error", error: { type: "api_error", message: "boom" } };
          if (ending === "stop") {
            yield { type: "message_delta", delta: { stop_reason: "end_turn", stop_sequence: null }, usage: { output_tokens: 1 } };
            yield { type: "message_stop" };
          }
        }
        async function* wrapped(): AsyncGenerator<StreamEvent> {
          const s = new PromptToolsStream(["Read", "Bash"]);
          for (const e of upstream()) yield* s.push(e);
        }
        await clientViews(wrapped);
      }),
      params,
    );
  });

  test("victoria kind: progress notes then an answer, a failure, or a result of any shape", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.string({ maxLength: 10 }), { maxLength: 4 }), fc.oneof(fc.record({ status: fc.constantFrom("completed", "failed", "error", "needs_clarification", "weird"), output: fc.jsonValue({ maxDepth: 2 }), error: fc.jsonValue({ maxDepth: 1 }), clarification_questions: fc.jsonValue({ maxDepth: 1 }) }, { requiredKeys: [] }), fc.constant(null)), async (notes, result) => {
        async function* updates(): AsyncGenerator<RunUpdate> {
          for (const note of notes) yield { type: "progress", note };
          if (result === null) throw new AtradError("timeout_error", "gave up");
          yield { type: "answer", answer: answerOf(result as RunResult, { provider: "victoria", correlationId: "c" }) };
        }
        const events = () => convertStream(new AnswerEvents("victoria", 5), updates());
        await clientViews(events);
      }),
      params,
    );
  });

  test("anthropic kind: relayed frames of any content end with message_stop or error, nothing after", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(anthropicFrame, { maxLength: 10 }), fc.array(fc.nat(), { maxLength: 6 }), async (frames, cuts) => {
        const text = frames.map(([e, d]) => `event: ${e.replaceAll("\n", " ")}\ndata: ${d.replaceAll("\n", " ")}\n\n`).join("");
        async function* relay(): AsyncGenerator<StreamEvent> {
          for await (const msg of parseSse(chunked(text, cuts))) {
            const event = fromUpstreamEvent(msg.event, msg.data);
            if (event) yield event;
          }
        }
        const out = await collect(guardStream(relay(), "up/m"));
        const terminal = out.findIndex((e) => e.type === "message_stop" || e.type === "error");
        expect(terminal).toBe(out.length - 1);
        for (const e of out) expect(isObj(e) && typeof e.type === "string").toBe(true);
      }),
      params,
    );
  });

  test("messageToEvents replays any Message as a well-formed stream that folds back to it", async () => {
    const block = fc.oneof(
      fc.record({ type: fc.constant("text"), text: fc.string() }),
      fc.record({ type: fc.constant("thinking"), thinking: fc.string(), signature: fc.string() }),
      fc.record({ type: fc.constant("tool_use"), id: fc.constant("toolu_1"), name: fc.constantFrom(...TOOL_NAMES), input: jsonObject }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(block, { maxLength: 4 }), fc.constantFrom("end_turn", "tool_use", "max_tokens"), async (content, stop_reason) => {
        const message = { id: "msg_1", type: "message", role: "assistant", model: "m", content, stop_reason, stop_sequence: null, usage: { input_tokens: 1, output_tokens: 2 } } as Message;
        const events = await clientViews(() => messageToEvents(message));
        expect(events.at(-1)!.type).toBe("message_stop");
        const folded = await aggregateStream(messageToEvents(message));
        expect(folded.content.length).toBe(content.length);
      }),
      params,
    );
  });

  test("the generated streams covered clean ends, error ends and tool calls", () => {
    expect(seen.message_stop).toBeGreaterThan(0);
    expect(seen.error).toBeGreaterThan(0);
    expect(seen.tool_use).toBeGreaterThan(0);
    console.log(`property streams: ${JSON.stringify(seen)}`);
  });
});
