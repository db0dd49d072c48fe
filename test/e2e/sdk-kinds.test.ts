/**
 * The official `@anthropic-ai/sdk` against every provider path through one atrad, for what
 * a request asks of the answer:
 * - parallel tool results, sent back in every possible order, each answer its own call on
 *   the paths that carry no ids (ollama's /api/chat pairs a `tool` message with a call by
 *   position; prompt tools number them) — the model here reads results by position, as a chat
 *   template does;
 * - a forced `tool_choice` is the tool that gets called;
 * - a stop sequence is reported as `stop_reason: "stop_sequence"` with the matched string,
 *   streaming and not, also where the upstream only says "stop" or ignores stop strings.
 */
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { KIND_NAMES, startKinds, type KindName, type Kinds } from "./kinds.ts";

let k: Kinds;
let client: Anthropic;

beforeAll(async () => {
  k = await startKinds();
  client = new Anthropic({ baseURL: k.atrad.url, apiKey: "atrad-test", maxRetries: 0 });
});
afterAll(async () => {
  await k?.stop();
});

const Read = { name: "Read", description: "Read a file", input_schema: { type: "object" as const, properties: { path: { type: "string" } }, required: ["path"] } };
const Weather = { name: "get_weather", description: "The weather", input_schema: { type: "object" as const, properties: { city: { type: "string" } } } };
const Time = { name: "get_time", description: "The time", input_schema: { type: "object" as const, properties: { city: { type: "string" } } } };

function permutations<T>(xs: readonly T[]): T[][] {
  if (xs.length <= 1) return [[...xs]];
  return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((rest) => [x, ...rest]));
}

const ORDERS = permutations([0, 1, 2]);

describe("official SDK: parallel tool results answer their own calls", () => {
  test.each((["ollama", "ollama-prompt"] as const).flatMap((name) => ORDERS.map((order) => [name, order.join("")] as const)))("%s: results sent in order %s", async (name, order) => {
    const paths = ["/a", "/b", "/c"];
    k.script((seen) => (seen.results.length ? { text: seen.results.join(" ") } : { calls: paths.map((path) => ({ name: "Read", input: { path } })) }));
    const model = k.kinds[name].model;
    const ask = { role: "user" as const, content: "read a, b and c" };
    const first = await client.messages.create({ model, max_tokens: 100, tools: [Read], messages: [ask] });
    const uses = first.content.filter((b) => b.type === "tool_use");
    expect(uses.map((u) => (u.input as { path: string }).path)).toEqual(paths);
    const results = [...order].map(Number).map((i) => ({ type: "tool_result" as const, tool_use_id: uses[i]!.id, content: `contents of ${paths[i]}` }));
    const second = await client.messages.create({ model, max_tokens: 100, tools: [Read], messages: [ask, { role: "assistant", content: first.content }, { role: "user", content: results }] });
    expect(second.content).toEqual([{ type: "text", text: "contents of /a contents of /b contents of /c" }] as never);
  });
});

describe("official SDK: a forced tool_choice is the tool called", () => {
  // The model calls the first tool it was offered: the forced one must be the only one, or first.
  test.each(["ollama"] as const)("%s: tool_choice { type: tool, name: get_time } with get_weather offered first", async (name) => {
    k.script((seen) => ({ calls: [{ name: seen.tools[0] ?? "none", input: { city: "Oslo" } }] }));
    const msg = await client.messages.create({ model: k.kinds[name].model, max_tokens: 50, tools: [Weather, Time], tool_choice: { type: "tool", name: "get_time" }, messages: [{ role: "user", content: "what now in Oslo?" }] });
    expect(msg.content.filter((b) => b.type === "tool_use").map((b) => b.name)).toEqual(["get_time"]);
    expect(msg.stop_reason).toBe("tool_use");
  });
});

// The anthropic kind relays what its upstream says about stop strings; every other path is here.
const STOPPING: KindName[] = KIND_NAMES.filter((n) => n !== "anthropic");

describe('official SDK: stop_reason "stop_sequence" names the matched string', () => {
  test.each(STOPPING.map((name) => [name] as const))("%s: non-streaming and streaming", async (name) => {
    k.script(() => ({ text: "1 2 3 STOP 4 END 5" }));
    const ask = { model: k.kinds[name].model, max_tokens: 100, stop_sequences: ["END", "STOP"], messages: [{ role: "user" as const, content: "count" }] };
    const whole = await client.messages.create(ask);
    expect([whole.content, whole.stop_reason, whole.stop_sequence]).toEqual([[{ type: "text", text: "1 2 3 " }], "stop_sequence", "STOP"] as never);
    const streamed = await client.messages.stream(ask).finalMessage();
    expect([streamed.content, streamed.stop_reason, streamed.stop_sequence]).toEqual([[{ type: "text", text: "1 2 3 " }], "stop_sequence", "STOP"] as never);
  });
});
