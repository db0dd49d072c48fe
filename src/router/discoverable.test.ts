import { describe, expect, test } from "bun:test";
import { publishIds, slug } from "./discoverable.ts";

describe("publishIds", () => {
  const routes = { default: ["ollama/qwen2.5-coder:32b"], haiku: ["ollama/phi3.5:3.8b"], aliases: { fast: ["mlx/qwen2.5-3b"] } };
  const discovered = [
    { provider: "ollama", models: ["qwen2.5-coder:32b", "my-haiku:1b", "a:b", "a-b"] },
    { provider: "mlx", models: ["qwen2.5-3b"] },
  ];
  const ids = publishIds(routes, discovered, ["victoria"]);

  test("EveryIdStartsWithClaude (Claude Code's discovery filter)", () => {
    expect(ids.every((p) => p.id.startsWith("claude-"))).toBe(true);
  });
  test("ReadableSlugs", () => {
    expect(ids.map((p) => p.id)).toEqual([
      "claude-route-haiku",
      "claude-route-default",
      "claude-alias-fast",
      "claude-ollama-qwen2.5-coder-32b",
      "claude-ollama-my-haiku-1b",
      "claude-ollama-a-b",
      "claude-ollama-a-b-2",
      "claude-mlx-qwen2.5-3b",
      "claude-victoria",
    ]);
  });
  test("ReversibleToTargets", () => {
    const byId = new Map(ids.map((p) => [p.id, p.targets]));
    expect(byId.get("claude-ollama-qwen2.5-coder-32b")).toEqual([{ provider: "ollama", model: "qwen2.5-coder:32b" }]);
    expect(byId.get("claude-ollama-a-b-2")).toEqual([{ provider: "ollama", model: "a-b" }]);
    expect(byId.get("claude-alias-fast")).toEqual([{ provider: "mlx", model: "qwen2.5-3b" }]);
    expect(byId.get("claude-victoria")).toEqual([{ provider: "victoria", model: "" }]);
  });
  test("DisplayNames name the model and provider", () => {
    expect(ids.find((p) => p.id === "claude-ollama-qwen2.5-coder-32b")!.display_name).toBe("qwen2.5-coder:32b · ollama");
  });
  test("slug", () => expect(slug("HF.co/Org/Model:Q4_K_M")).toBe("hf.co-org-model-q4-k-m"));
});
