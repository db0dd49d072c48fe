/**
 * The Vercel AI SDK (`ai` + `@ai-sdk/anthropic`) as a client nobody here wrote, against every
 * provider path through one atrad: text, streaming, a tool round trip the SDK runs itself,
 * reasoning (its parser rejects a thinking block without `signature`), and `Output.object`
 * (with a `claude-…` id the SDK asks for structured output with `output_config.format`).
 */
import { createAnthropic } from "@ai-sdk/anthropic";
import { generateText, jsonSchema, Output, stepCountIs, streamText, tool } from "ai";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { KIND_NAMES, startKinds, TRICKY, words, type Kinds } from "./kinds.ts";

let k: Kinds;
let anthropic: ReturnType<typeof createAnthropic>;

beforeAll(async () => {
  k = await startKinds();
  anthropic = createAnthropic({ baseURL: `${k.atrad.url}/v1`, apiKey: "atrad-test" });
});
afterAll(async () => {
  await k?.stop();
});

const all = KIND_NAMES.map((name) => [name] as const);

describe("Vercel AI SDK on every kind", () => {
  test.each(all)("%s: generateText returns the text byte for byte", async (name) => {
    k.script(() => ({ text: TRICKY }));
    const result = await generateText({ model: anthropic(k.kinds[name].model), prompt: "plan it", maxOutputTokens: 200, maxRetries: 0 });
    expect(result.text).toBe(TRICKY);
    expect(result.finishReason).toBe("stop");
  });

  test.each(all)("%s: streamText streams the text byte for byte", async (name) => {
    k.script((seen) => ({ text: `${seen.user.toUpperCase()}\n${TRICKY}` }));
    const result = streamText({ model: anthropic(k.kinds[name].model), prompt: "say it", maxOutputTokens: 200, maxRetries: 0 });
    const parts: string[] = [];
    for await (const piece of result.textStream) parts.push(piece);
    expect(parts.join("")).toBe(`SAY IT\n${TRICKY}`);
    // Victoria hands over the whole answer at once; every other path streams it in pieces.
    if (name !== "victoria") expect(parts.length).toBeGreaterThan(1);
    expect(await result.finishReason).toBe("stop");
  });

  const withTools = KIND_NAMES.filter((n) => n !== "victoria").map((name) => [name] as const);
  test.each(withTools)("%s: a tool round trip the SDK runs (generateText with an executed tool)", async (name) => {
    k.script((seen) => {
      if (seen.results.length) return { text: `It is ${seen.results[0]} in Oslo.` };
      if (!seen.tools.includes("get_weather")) return { text: "no tools offered" };
      return { text: "Checking.", calls: [{ name: "get_weather", input: { city: "Oslo" } }] };
    });
    const calls: unknown[] = [];
    const result = await generateText({
      model: anthropic(k.kinds[name].model),
      prompt: "Weather in Oslo?",
      maxOutputTokens: 200,
      maxRetries: 0,
      stopWhen: stepCountIs(3),
      tools: {
        get_weather: tool({
          description: "The weather in a city",
          inputSchema: jsonSchema<{ city: string }>({ type: "object", properties: { city: { type: "string" } }, required: ["city"] }),
          execute: async (input) => (calls.push(input), "12 °C and rain"),
        }),
      },
    });
    expect(calls).toEqual([{ city: "Oslo" }]);
    expect(result.text).toBe("It is 12 °C and rain in Oslo.");
    expect(result.steps.map((s) => s.finishReason)).toEqual(["tool-calls", "stop"]);
  });

  // Victoria cannot call tools: the round trip it must carry is a history that holds one.
  test("victoria: a conversation holding a tool call and its result reaches Victoria and is answered", async () => {
    k.script((seen) => ({ text: `Victoria read: ${seen.results.join("|")}` }));
    const result = await generateText({
      model: anthropic(k.kinds.victoria.model),
      maxOutputTokens: 200,
      maxRetries: 0,
      messages: [
        { role: "user", content: "Weather in Oslo?" },
        { role: "assistant", content: [{ type: "tool-call", toolCallId: "toolu_1", toolName: "get_weather", input: { city: "Oslo" } }] },
        { role: "tool", content: [{ type: "tool-result", toolCallId: "toolu_1", toolName: "get_weather", output: { type: "text", value: "12 °C and rain" } }] },
      ],
    });
    expect(result.text).toBe("Victoria read: 12 °C and rain");
  });

  const reasoning = KIND_NAMES.filter((n) => ["anthropic", "openai-mlx", "openai-piecewise", "ollama"].includes(n)).map((name) => [name] as const);
  test.each(reasoning)("%s: generateText with reasoning gets the thinking (signed blocks the SDK accepts)", async (name) => {
    k.script(() => ({ reasoning: "The user wants a number.\n  Seven is fine.", text: "7" }));
    const result = await generateText({
      model: anthropic(k.kinds[name].model),
      prompt: "Pick a number.",
      maxOutputTokens: 2000,
      maxRetries: 0,
      providerOptions: { anthropic: { thinking: { type: "enabled", budgetTokens: 1024 } } },
    });
    expect(result.text).toBe("7");
    expect(result.reasoningText).toBe("The user wants a number.\n  Seven is fine.");
    // The block came with a signature (a string, empty when the backend has none).
    expect(result.reasoning.map((r) => typeof (r.providerMetadata?.anthropic as { signature?: unknown } | undefined)?.signature)).toEqual(["string"]);
  });

  test.each(reasoning)("%s: streamText with reasoning streams the thinking, then the text", async (name) => {
    k.script(() => ({ reasoning: "Thinking it over.", text: "Done." }));
    const result = streamText({
      model: anthropic(k.kinds[name].model),
      prompt: "Go.",
      maxOutputTokens: 2000,
      maxRetries: 0,
      providerOptions: { anthropic: { thinking: { type: "enabled", budgetTokens: 1024 } } },
    });
    expect(await result.text).toBe("Done.");
    expect(await result.reasoningText).toBe("Thinking it over.");
  });

  const schema = jsonSchema<{ city: string; celsius: number }>({
    type: "object",
    properties: { city: { type: "string" }, celsius: { type: "number" } },
    required: ["city", "celsius"],
    additionalProperties: false,
  });
  test.each(all)("%s: Output.object gets an object that follows the schema, which reached the upstream", async (name) => {
    k.script(() => ({ text: JSON.stringify({ city: "Oslo", celsius: 12 }) }));
    const result = await generateText({ model: anthropic(k.kinds[name].model), prompt: "Weather in Oslo as JSON", maxOutputTokens: 200, maxRetries: 0, output: Output.object({ schema }) });
    expect(result.output).toEqual({ city: "Oslo", celsius: 12 });
    // Not silently dropped: each upstream got the schema in its own form (or as an instruction).
    expect(k.kinds[name].sawSchema(k.kinds[name].last(), "celsius")).toBe(true);
  });

  test.each(all)("%s: streamText with Output.object streams an object that follows the schema", async (name) => {
    k.script(() => ({ text: JSON.stringify({ city: "Zürich", celsius: -3.5 }, null, 2) }));
    const result = streamText({ model: anthropic(k.kinds[name].model), prompt: "Weather in Zürich as JSON", maxOutputTokens: 200, maxRetries: 0, output: Output.object({ schema }) });
    expect(await result.output).toEqual({ city: "Zürich", celsius: -3.5 });
  });

  // The SDK takes input_tokens from message_delta when it is there: a stream reports the same
  // count as the whole answer does, the server's own where it gives one.
  test.each(all)("%s: streamText's usage.inputTokens is the count generateText reports", async (name) => {
    k.script(() => ({ text: "ok" }));
    const prompt = words(1200);
    const whole = await generateText({ model: anthropic(k.kinds[name].model), prompt, maxOutputTokens: 50, maxRetries: 0 });
    const stream = streamText({ model: anthropic(k.kinds[name].model), prompt, maxOutputTokens: 50, maxRetries: 0 });
    const usage = await stream.usage;
    expect(whole.usage.inputTokens).toBeGreaterThanOrEqual(1200);
    expect(usage.inputTokens).toBe(whole.usage.inputTokens);
  });

  test.each(withTools)("%s: streamText runs the tool round trip too (streamed tool calls)", async (name) => {
    k.script((seen) => {
      if (seen.results.length) return { text: `Files: ${seen.results.join(" + ")}` };
      return { text: "Listing.", calls: [{ name: "list", input: { dir: "/srv/a b" } }, { name: "list", input: { dir: "/srv/ü" } }] };
    });
    const result = streamText({
      model: anthropic(k.kinds[name].model),
      prompt: "List both dirs.",
      maxOutputTokens: 200,
      maxRetries: 0,
      stopWhen: stepCountIs(3),
      tools: {
        list: tool({
          description: "List a directory",
          inputSchema: jsonSchema<{ dir: string }>({ type: "object", properties: { dir: { type: "string" } }, required: ["dir"] }),
          execute: async ({ dir }) => `${dir}:[x]`,
        }),
      },
    });
    expect(await result.text).toBe("Files: /srv/a b:[x] + /srv/ü:[x]");
    expect((await result.steps).map((s) => s.toolCalls.map((c) => c.input))).toEqual([[{ dir: "/srv/a b" }, { dir: "/srv/ü" }], []]);
  });

  test("ollama: a forced toolChoice is the tool called", async () => {
    // The model calls the first tool it was offered: the forced one must be the only one.
    k.script((seen) => ({ calls: [{ name: seen.tools[0] ?? "none", input: { city: "Oslo" } }] }));
    const city = jsonSchema<{ city: string }>({ type: "object", properties: { city: { type: "string" } } });
    const result = await generateText({
      model: anthropic(k.kinds.ollama.model),
      prompt: "Time in Oslo?",
      maxOutputTokens: 50,
      maxRetries: 0,
      tools: { get_weather: tool({ description: "The weather", inputSchema: city }), get_time: tool({ description: "The time", inputSchema: city }) },
      toolChoice: { type: "tool", toolName: "get_time" },
    });
    expect(result.toolCalls.map((c) => c.toolName)).toEqual(["get_time"]);
  });
});
