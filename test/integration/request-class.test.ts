/**
 * A model per kind of request: Claude Code's hint header `x-claude-code-request-class` (or,
 * without hints, a parent agent id) picks the `[routes]` subagent / compaction / background
 * route; the request log and the status page's records carry the class.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { startOllamaStandIn, type OllamaStandIn } from "../standins/ollama.ts";
import { startTestDaemon, type TestDaemon } from "../support/daemon.ts";
import { post } from "../support/sse.ts";

let ollama: OllamaStandIn;
let atrad: TestDaemon;

beforeAll(async () => {
  ollama = startOllamaStandIn({ models: ["big:32b", "agent:14b", "summary:7b", "small:3b"] });
  atrad = await startTestDaemon(`
[providers.ollama]
kind = "anthropic"
url = "${ollama.url}"
[routes]
default = ["ollama/big:32b"]
subagent = ["ollama/agent:14b"]
compaction = ["ollama/summary:7b"]
background = ["ollama/small:3b"]
`);
});
afterAll(async () => {
  await atrad.stop();
  await ollama.stop();
});

async function served(model: string, headers: Record<string, string>) {
  const res = await post(`${atrad.url}/v1/messages`, { model, max_tokens: 5, messages: [{ role: "user", content: "hi" }] }, headers);
  expect(res.status).toBe(200);
  await res.text();
  return { model: ollama.received.at(-1)!.body.model as string, record: atrad.records.at(-1)! };
}

describe("the route follows the kind of request", () => {
  const cases: Array<[string, Record<string, string>, string, string]> = [
    ["auxiliary (a title, a summary) → background", { "x-claude-code-request-class": "auxiliary" }, "small:3b", "background"],
    ["subagent → subagent", { "x-claude-code-request-class": "subagent" }, "agent:14b", "subagent"],
    ["workflow → subagent", { "x-claude-code-request-class": "workflow" }, "agent:14b", "subagent"],
    ["compaction → compaction", { "x-claude-code-request-class": "compaction" }, "summary:7b", "compaction"],
    ["main → today's rules", { "x-claude-code-request-class": "main" }, "big:32b", "main"],
    ["no hints, a parent agent id → subagent", { "x-claude-code-agent-id": "a2", "x-claude-code-parent-agent-id": "a1" }, "agent:14b", "subagent"],
    ["no hints at all → today's rules", {}, "big:32b", "main"],
  ];
  for (const [name, headers, model, cls] of cases) {
    test(name, async () => {
      const got = await served("claude-sonnet-4-5", headers);
      expect(got.model).toBe(model);
      expect(got.record.request_class).toBe(cls);
    });
  }

  test("a model named outright is served as named, whatever the class", async () => {
    expect((await served("ollama/big:32b", { "x-claude-code-request-class": "auxiliary" })).model).toBe("big:32b");
  });

  test("the status page's records show the class", async () => {
    await served("claude-haiku-4-5", { "x-claude-code-request-class": "auxiliary", "x-claude-code-session-id": "s-class" });
    const state = (await (await fetch(`${atrad.url}/atrad/ui/state`)).json()) as { requests: Array<{ session_id: string; request_class: string; target: string }> };
    expect(state.requests.find((r) => r.session_id === "s-class")).toMatchObject({ request_class: "background", target: "ollama/small:3b" });
  });
});

test("without a class route, a subagent goes where it went before", async () => {
  const d = await startTestDaemon(`[providers.ollama]\nkind = "anthropic"\nurl = "${ollama.url}"\n[routes]\ndefault = ["ollama/big:32b"]\n`);
  try {
    const res = await post(`${d.url}/v1/messages`, { model: "claude-sonnet-4-5", max_tokens: 5, messages: [{ role: "user", content: "hi" }] }, { "x-claude-code-request-class": "subagent" });
    expect(res.status).toBe(200);
    await res.text();
    expect(ollama.received.at(-1)!.body.model).toBe("big:32b");
    expect(d.records.at(-1)!.request_class).toBe("subagent");
  } finally {
    await d.stop();
  }
});
