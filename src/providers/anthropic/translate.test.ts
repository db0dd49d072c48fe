import { describe, expect, test } from "bun:test";
import { forwardedHeaders, fromUpstreamEvent, toUpstreamRequest } from "./translate.ts";

describe("anthropic translate", () => {
  test("SystemBlocks_JoinedWithBlankLines (Ollama would glue them together)", () => {
    const out = toUpstreamRequest(
      { model: "claude-x", max_tokens: 1, messages: [], system: [{ type: "text", text: "A." }, { type: "text", text: "B.", cache_control: { type: "ephemeral" } }] as any },
      "qwen",
    );
    expect(out.system).toBe("A.\n\nB.");
    expect(out.model).toBe("qwen");
  });
  test("UnknownFields_Kept", () => {
    const req = { model: "m", max_tokens: 1, messages: [], context_management: { edits: [] }, output_config: { effort: "high" } } as any;
    expect(toUpstreamRequest(req, "x")).toMatchObject({ context_management: { edits: [] }, output_config: { effort: "high" } });
  });
  test("Headers_OnlyAnthropicOnesForwarded", () => {
    const h = new Headers({ "anthropic-beta": "a,b", "anthropic-version": "2023-06-01", authorization: "Bearer secret", "x-api-key": "k", host: "evil" });
    expect(forwardedHeaders(h)).toEqual({ "anthropic-beta": "a,b", "anthropic-version": "2023-06-01" });
  });
  test("Event_TypeFromEventNameWhenMissing", () => {
    expect(fromUpstreamEvent("ping", "{}")).toEqual({ type: "ping" });
    expect(fromUpstreamEvent("x", "")).toBeUndefined();
  });
});
