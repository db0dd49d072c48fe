import { describe, expect, test } from "bun:test";
import { normalise } from "../../anthropic/normalise.ts";
import { forwardedHeaders, fromUpstreamEvent, toUpstreamRequest } from "./translate.ts";

describe("anthropic translate", () => {
  test("SystemBlocks_KeepTheirShapeAndStartWithBlankLines (Ollama would glue them together)", () => {
    const out = toUpstreamRequest(normalise(
      { model: "claude-x", max_tokens: 1, messages: [], system: [{ type: "text", text: "A." }, { type: "text", text: "B.", cache_control: { type: "ephemeral" } }] as any }),
      "qwen",
    );
    expect(out.system).toEqual<unknown>([{ type: "text", text: "A." }, { type: "text", text: "\n\nB.", cache_control: { type: "ephemeral" } }]);
    expect(out.model).toBe("qwen");
  });
  test("BillingBlock_StaysFirstWithoutPerRequestFields", () => {
    const system = [{ type: "text", text: "x-anthropic-billing-header: cc_version=2.1.332; cc_entrypoint=cli; cch=ab12;" }, { type: "text", text: "You are Claude." }];
    const out = toUpstreamRequest(normalise({ model: "m", max_tokens: 1, messages: [], system } as never), "x");
    expect(out.system).toEqual([{ type: "text", text: "x-anthropic-billing-header: cc_version=2.1.332; cc_entrypoint=cli;" }, { type: "text", text: "\n\nYou are Claude." }]);
  });
  test("SystemMessages_BecomeUserRemindersInPlace", () => {
    const messages = [{ role: "user", content: "hi" }, { role: "assistant", content: "yo" }, { role: "system", content: "note" }, { role: "user", content: [{ type: "text", text: "go", cache_control: { type: "ephemeral" } }] }];
    const out = toUpstreamRequest(normalise({ model: "m", max_tokens: 1, messages } as never), "x");
    expect(out.messages as unknown).toEqual([
      { role: "user", content: [{ type: "text", text: "hi" }] },
      { role: "assistant", content: [{ type: "text", text: "yo" }] },
      { role: "user", content: [{ type: "text", text: "<system-reminder>\nnote\n</system-reminder>" }, { type: "text", text: "go", cache_control: { type: "ephemeral" } }] },
    ]);
    const plain = [{ role: "user", content: "hi" }];
    expect(toUpstreamRequest(normalise({ model: "m", max_tokens: 1, messages: plain } as never), "x").messages).toBe(plain as never);
  });
  test("UnknownFields_Kept", () => {
    const req = { model: "m", max_tokens: 1, messages: [], context_management: { edits: [] }, output_config: { effort: "high" } } as any;
    expect(toUpstreamRequest(normalise(req), "x")).toMatchObject({ context_management: { edits: [] }, output_config: { effort: "high" } });
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

describe("relayed JSON", () => {
  test("Event_RelayedByteForByte (no second stringify: field order and spacing kept)", async () => {
    const { formatEvent } = await import("../../anthropic/sse.ts");
    const data = '{"type":"content_block_delta", "index":0,"delta":{"text":"hi","type":"text_delta"}}';
    expect(formatEvent(fromUpstreamEvent("content_block_delta", data)!)).toBe(`event: content_block_delta\ndata: ${data}\n\n`);
  });
  test("Event_ChangedCopyIsReserialised (renumbering must not reuse the upstream's JSON)", async () => {
    const { formatEvent } = await import("../../anthropic/sse.ts");
    const e = fromUpstreamEvent(undefined, '{"type":"content_block_stop","index":0}')!;
    expect(formatEvent({ ...e, index: 3 } as never)).toBe('event: content_block_stop\ndata: {"type":"content_block_stop","index":3}\n\n');
  });
});
