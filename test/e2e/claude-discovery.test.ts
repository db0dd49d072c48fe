/**
 * The real Claude Code CLI with gateway model discovery on: it fetches /v1/models, keeps the
 * `claude-…` ids atrad publishes, and a request for one reaches the right provider with the
 * right upstream model name — even one whose name contains "haiku".
 */
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { startOllamaStandIn } from "../standins/ollama.ts";
import { runClaude } from "../support/claude.ts";
import { atradInFrontOf, ollamaToml } from "../support/gateway.ts";

const { ollama, atrad } = await atradInFrontOf({ ollama: startOllamaStandIn({ models: ["qwen2.5-coder:32b", "phi3.5:3.8b", "my-haiku:1b"] }) }, ({ ollama }) => ollamaToml(ollama.url));

test("gateway-models.json lists atrad's local models, and one of them answers", async () => {
  ollama.reply = (body) => ({ items: [{ text: `this is ${body.model}` }] });
  const run = await runClaude({
    baseUrl: atrad.url,
    prompt: "who are you?",
    args: ["--model", "claude-ollama-my-haiku-1b"],
    env: { CLAUDE_CODE_ENABLE_GATEWAY_MODEL_DISCOVERY: "1" },
  });
  expect(run.exitCode).toBe(0);
  expect(run.result?.result).toBe("this is my-haiku:1b");

  const cache = JSON.parse(readFileSync(join(run.home, ".claude", "cache", "gateway-models.json"), "utf8"));
  const ids = cache.models.map((m: { id: string }) => m.id);
  expect(ids).toContain("claude-ollama-qwen2.5-coder-32b");
  expect(ids).toContain("claude-ollama-my-haiku-1b");
  expect(ids).toContain("claude-route-haiku");
  expect(cache.models.find((m: any) => m.id === "claude-ollama-qwen2.5-coder-32b").display_name).toBe("qwen2.5-coder:32b · ollama");

  // Not tier-routed to phi3.5 although the name contains "haiku".
  const served = atrad.records.filter((r) => r.model === "claude-ollama-my-haiku-1b");
  expect(served.length).toBeGreaterThan(0);
  expect(served.every((r) => r.target === "ollama/my-haiku:1b")).toBe(true);
  expect(ollama.received.some((r) => r.body.model === "phi3.5:3.8b")).toBe(false);
});
