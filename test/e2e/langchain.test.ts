/**
 * LangChain's `ChatAnthropic` as a client nobody here wrote, against every provider path
 * through one atrad: text, streaming, a tool round trip (bindTools → tool_calls →
 * ToolMessage), and streaming usage. LangChain takes a stream's `input_tokens` from
 * `message_start` only (its `message_delta` handler hard-codes 0), so what atrad puts there is
 * what a LangChain user sees: it must be the real count where the upstream gives it up front,
 * and the best local count of the request where the upstream tells it only at the end.
 */
import { ChatAnthropic } from "@langchain/anthropic";
import { AIMessage, AIMessageChunk, HumanMessage, ToolMessage } from "@langchain/core/messages";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { KIND_NAMES, startKinds, TRICKY, words, type KindName, type Kinds } from "./kinds.ts";

let k: Kinds;

beforeAll(async () => {
  k = await startKinds();
});
afterAll(async () => {
  await k?.stop();
});

const chat = (name: KindName) => new ChatAnthropic({ model: k.kinds[name].model, anthropicApiUrl: k.atrad.url, apiKey: "atrad-test", maxRetries: 0, maxTokens: 200, streamUsage: true });
const all = KIND_NAMES.map((name) => [name] as const);

async function streamed(name: KindName, input: Parameters<ChatAnthropic["stream"]>[0]): Promise<{ chunks: number; message: AIMessageChunk }> {
  let message: AIMessageChunk | undefined;
  let chunks = 0;
  for await (const chunk of await chat(name).stream(input)) {
    chunks++;
    message = message ? message.concat(chunk) : chunk;
  }
  return { chunks, message: message! };
}

const text = (m: AIMessage | AIMessageChunk) => (typeof m.content === "string" ? m.content : m.content.map((p: any) => (p.type === "text" ? p.text : "")).join(""));

const weather = { name: "get_weather", description: "The weather in a city", input_schema: { type: "object" as const, properties: { city: { type: "string" } }, required: ["city"] } };

describe("LangChain ChatAnthropic on every kind", () => {
  test.each(all)("%s: invoke returns the text byte for byte", async (name) => {
    k.script(() => ({ text: TRICKY }));
    const reply = await chat(name).invoke("plan it");
    expect(text(reply)).toBe(TRICKY);
    expect(reply.response_metadata.stop_reason).toBe("end_turn");
  });

  test.each(all)("%s: stream streams the text byte for byte", async (name) => {
    k.script((seen) => ({ text: `${seen.user.toUpperCase()}\n${TRICKY}` }));
    const { chunks, message } = await streamed(name, "say it");
    expect(text(message)).toBe(`SAY IT\n${TRICKY}`);
    expect(chunks).toBeGreaterThan(2);
  });

  test.each(KIND_NAMES.filter((n) => n !== "victoria").map((name) => [name] as const))("%s: a tool round trip (bindTools, tool_calls, ToolMessage)", async (name) => {
    k.script((seen) => {
      if (seen.results.length) return { text: `It is ${seen.results[0]} in Oslo.` };
      if (!seen.tools.includes("get_weather")) return { text: "no tools offered" };
      return { text: "Checking.", calls: [{ name: "get_weather", input: { city: "Oslo" } }] };
    });
    const model = chat(name).bindTools([weather]);
    const ask = new HumanMessage("Weather in Oslo?");
    const first = await model.invoke([ask]);
    expect(first.tool_calls?.map((c) => [c.name, c.args])).toEqual([["get_weather", { city: "Oslo" }]]);
    const result = new ToolMessage({ tool_call_id: first.tool_calls![0]!.id!, content: "12 °C and rain" });
    const second = await model.invoke([ask, first, result]);
    expect(text(second)).toBe("It is 12 °C and rain in Oslo.");
    expect(second.tool_calls ?? []).toEqual([]);
  });

  test.each(KIND_NAMES.filter((n) => n !== "victoria").map((name) => [name] as const))("%s: a streamed tool call arrives whole", async (name) => {
    k.script(() => ({ calls: [{ name: "get_weather", input: { city: "Zürich 🇨🇭" } }] }));
    let message: AIMessageChunk | undefined;
    for await (const chunk of await chat(name).bindTools([weather]).stream("Weather in Zürich?")) message = message ? message.concat(chunk) : chunk;
    expect(message!.tool_calls?.map((c) => [c.name, c.args])).toEqual([["get_weather", { city: "Zürich 🇨🇭" }]]);
  });

  // Victoria cannot call tools: the round trip it must carry is a history that holds one.
  test("victoria: a conversation holding a tool call and its result reaches Victoria and is answered", async () => {
    k.script((seen) => ({ text: `Victoria read: ${seen.results.join("|")}` }));
    const reply = await chat("victoria").invoke([
      new HumanMessage("Weather in Oslo?"),
      new AIMessage({ content: "", tool_calls: [{ id: "toolu_1", name: "get_weather", args: { city: "Oslo" } }] }),
      new ToolMessage({ tool_call_id: "toolu_1", content: "12 °C and rain" }),
    ]);
    expect(text(reply)).toBe("Victoria read: 12 °C and rain");
  });

  // A prompt of ~1,200 one-token words: the stand-ins' servers count what they evaluated.
  test.each(all)("%s: streaming usage_metadata.input_tokens is the prompt's count, not a token preview", async (name) => {
    k.script(() => ({ text: "ok" }));
    const prompt = words(1200);
    const whole = await chat(name).invoke(prompt);
    const real = whole.usage_metadata!.input_tokens;
    const { message } = await streamed(name, prompt);
    const shown = message.usage_metadata!.input_tokens;
    expect(real).toBeGreaterThanOrEqual(1200);
    // Within a tenth of what the server counted (the local count may differ by the template).
    expect(Math.abs(shown - real), `stream ${shown} vs real ${real}`).toBeLessThanOrEqual(real / 10);
    expect(message.usage_metadata!.output_tokens).toBeGreaterThan(0);
  });

  // LangChain sends the thinking block back in the history, signature and all.
  test.each((["anthropic", "openai-mlx", "openai-piecewise", "ollama"] as const).map((name) => [name] as const))("%s: thinking, a tool call, and the thinking sent back with the result", async (name) => {
    k.script((seen) => (seen.results.length ? { text: `Result: ${seen.results[0]}` } : { reasoning: "Need the weather tool.", calls: [{ name: "get_weather", input: { city: "Oslo" } }] }));
    const model = new ChatAnthropic({ model: k.kinds[name].model, anthropicApiUrl: k.atrad.url, apiKey: "atrad-test", maxRetries: 0, maxTokens: 2000, thinking: { type: "enabled", budget_tokens: 1024 } }).bindTools([weather]);
    const ask = new HumanMessage("Weather in Oslo?");
    const first = await model.invoke([ask]);
    const blocks = first.content as Array<{ type: string; thinking?: string; signature?: unknown }>;
    expect(blocks.filter((b) => b.type === "thinking").map((b) => [b.thinking, typeof b.signature])).toEqual([["Need the weather tool.", "string"]]);
    const second = await model.invoke([ask, first, new ToolMessage({ tool_call_id: first.tool_calls![0]!.id!, content: "rain" })]);
    expect(text(second)).toBe("Result: rain");
  });

  const Forecast = { title: "forecast", description: "A forecast", type: "object", properties: { city: { type: "string" }, celsius: { type: "number" } }, required: ["city", "celsius"] };

  // LangChain's default: a forced call of one tool whose input is the answer.
  test.each(KIND_NAMES.filter((n) => n !== "victoria").map((name) => [name] as const))("%s: withStructuredOutput (function calling) returns the object", async (name) => {
    k.script((seen) => (seen.tools.length ? { calls: [{ name: seen.tools[0]!, input: { city: "Oslo", celsius: 12 } }] } : { text: "no tool offered" }));
    const out = await chat(name).withStructuredOutput(Forecast).invoke("Forecast for Oslo");
    expect(out).toEqual({ city: "Oslo", celsius: 12 });
  });

  // method "jsonSchema" asks with output_config.format: every kind, Victoria too.
  test.each(all)("%s: withStructuredOutput (jsonSchema) returns the object, and the schema reached the upstream", async (name) => {
    k.script(() => ({ text: JSON.stringify({ city: "Oslo", celsius: 12 }) }));
    const out = await chat(name).withStructuredOutput(Forecast, { method: "jsonSchema" }).invoke("Forecast for Oslo");
    expect(out).toEqual({ city: "Oslo", celsius: 12 });
    expect(k.kinds[name].sawSchema(k.kinds[name].last(), "celsius")).toBe(true);
  });
});
