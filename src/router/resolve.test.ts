import { describe, expect, test } from "bun:test";
import { autoTargets, paramsOf, parseTarget, resolveModel, tierOf } from "./resolve.ts";

const routes = {
  default: ["ollama/qwen2.5-coder:32b", "mlx/qwen2.5-3b"],
  haiku: ["ollama/phi3.5:3.8b"],
  aliases: { fast: ["mlx/qwen2.5-3b"] },
};
const providers = new Set(["ollama", "mlx", "victoria"]);
const none = () => [];

describe("resolveModel", () => {
  test.each([
    ["Direct_ProviderSlashModel", "ollama/llama3:8b", "direct", ["ollama/llama3:8b"]],
    ["Direct_ModelWithSlashes", "ollama/hf.co/org/m:q4", "direct", ["ollama/hf.co/org/m:q4"]],
    ["Direct_BareProvider", "victoria", "direct", ["victoria/"]],
    ["Alias", "fast", "alias:fast", ["mlx/qwen2.5-3b"]],
    ["Tier_HaikuRoute", "claude-haiku-5", "haiku", ["ollama/phi3.5:3.8b"]],
    ["Tier_OpusWithoutRoute_UsesDefault", "claude-opus-5-5", "default", ["ollama/qwen2.5-coder:32b", "mlx/qwen2.5-3b"]],
    ["Unknown_UsesDefault", "gpt-4", "default", ["ollama/qwen2.5-coder:32b", "mlx/qwen2.5-3b"]],
    ["UnknownProviderPrefix_IsNotDirect", "openrouter/x", "default", ["ollama/qwen2.5-coder:32b", "mlx/qwen2.5-3b"]],
  ])("%s", (_case, model, rule, targets) => {
    const r = resolveModel(model, routes, providers, none);
    expect(r.rule).toBe(rule);
    expect(r.targets.map((t) => `${t.provider}/${t.model}`)).toEqual(targets);
  });

  test("Published_ExactIdWinsOverTier (a local model named *haiku* is not tier-routed)", () => {
    const published = new Map([["claude-ollama-haiku-local", { rule: "direct", targets: [{ provider: "ollama", model: "haiku-local" }] }]]);
    const r = resolveModel("claude-ollama-haiku-local", routes, providers, none, published);
    expect(r.targets).toEqual([{ provider: "ollama", model: "haiku-local" }]);
  });

  test("Auto_WhenNoDefault: largest for opus, smallest for haiku, one per provider", () => {
    const discovered = [
      { provider: "ollama", models: ["phi3.5:3.8b", "qwen2.5-coder:32b", "nomic-embed-text:latest", "llama3.1:8b"] },
      { provider: "mlx", models: ["qwen2.5-3b", "tinyllama"] },
      { provider: "empty", models: [] },
    ];
    const r = resolveModel("claude-opus-5-5", { default: [], aliases: {} }, providers, (tier) => autoTargets(tier, discovered));
    expect(r.rule).toBe("auto");
    expect(r.targets).toEqual([
      { provider: "ollama", model: "qwen2.5-coder:32b" },
      { provider: "mlx", model: "qwen2.5-3b" },
    ]);
    expect(autoTargets("haiku", discovered)[0]).toEqual({ provider: "ollama", model: "phi3.5:3.8b" });
  });
});

describe("helpers", () => {
  test.each([
    ["qwen2.5-coder:32b", 32],
    ["phi3.5:3.8b", 3.8],
    ["qwen2.5-3b", 3],
    ["llama3.1:8b-instruct-q4", 8],
    ["tinyllama", undefined],
  ])("paramsOf(%s)", (name, n) => expect(paramsOf(name)).toBe(n as number));

  test("parseTarget splits at the first slash only", () => {
    expect(parseTarget("a/b/c")).toEqual({ provider: "a", model: "b/c" });
    expect(parseTarget("victoria")).toEqual({ provider: "victoria", model: "" });
  });

  test("tierOf", () => {
    expect([tierOf("claude-opus-5-5"), tierOf("Claude-Sonnet"), tierOf("claude-haiku-5"), tierOf("qwen")]).toEqual(["opus", "sonnet", "haiku", undefined]);
  });
});
