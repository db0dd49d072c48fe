import { describe, expect, test } from "bun:test";
import { normalise } from "../../anthropic/normalise.ts";
import type { MessagesRequest } from "../../anthropic/schema.ts";
import { toOllamaChat } from "./request.ts";

const base = (extra: Record<string, unknown>): MessagesRequest => ({ model: "claude-x", max_tokens: 100, messages: [{ role: "user", content: "hi" }], ...extra }) as MessagesRequest;
const img = (data: string) => ({ type: "image", source: { type: "base64", media_type: "image/png", data } });

const cases: Array<{ name: string; req: MessagesRequest; opts?: { numCtx?: number; nativeTools?: boolean }; want: object }> = [
  {
    name: "Request_SystemBlocksJoinedBillingHeaderDropped",
    req: base({ system: [{ type: "text", text: "x-anthropic-billing-header: cc_version=1;" }, { type: "text", text: "A", cache_control: { type: "ephemeral" } }, { type: "text", text: "B" }] }),
    want: { messages: [{ role: "system", content: "A\n\nB" }, { role: "user", content: "hi" }] },
  },
  {
    // Ollama's templates move every system message to the front, throwing away the prefix cache.
    name: "Request_SystemRoleInsideMessagesStaysInPlaceAsUserReminder",
    req: base({ system: "S", messages: [{ role: "user", content: "u1" }, { role: "system", content: [{ type: "text", text: "env" }] }, { role: "user", content: "u2" }] }),
    want: { messages: [{ role: "system", content: "S" }, { role: "user", content: "u1\n\n<system-reminder>\nenv\n</system-reminder>" }, { role: "user", content: "u2" }] },
  },
  {
    name: "Request_Base64Images",
    req: base({ messages: [{ role: "user", content: [{ type: "text", text: "what is this" }, img("AAAA"), img("BBBB")] }] }),
    want: { messages: [{ role: "user", content: "what is this", images: ["AAAA", "BBBB"] }] },
  },
  {
    name: "Request_ToolUseAndResultsRoundTrip",
    req: base({
      messages: [
        { role: "user", content: "write" },
        { role: "assistant", content: [{ type: "thinking", thinking: "plan", signature: "sig" }, { type: "text", text: "ok" }, { type: "tool_use", id: "t1", name: "Write", input: { file_path: "/a" } }, { type: "tool_use", id: "t2", name: "Read", input: { path: "/b" } }] },
        { role: "user", content: [{ type: "tool_result", tool_use_id: "t1", content: "done" }, { type: "tool_result", tool_use_id: "t2", is_error: true, content: [{ type: "text", text: "no such file" }] }, { type: "text", text: "go on" }] },
      ],
    }),
    want: {
      messages: [
        { role: "user", content: "write" },
        { role: "assistant", content: "ok", thinking: "plan", tool_calls: [{ id: "t1", function: { name: "Write", arguments: { file_path: "/a" } } }, { id: "t2", function: { name: "Read", arguments: { path: "/b" } } }] },
        { role: "tool", content: "done", tool_name: "Write" },
        { role: "tool", content: "Error: no such file", tool_name: "Read" },
        { role: "user", content: "go on" },
      ],
    },
  },
  {
    name: "Request_ToolResultOnlyHasNoEmptyUserMessage",
    req: base({ messages: [{ role: "assistant", content: [{ type: "tool_use", id: "t1", name: "Bash", input: {} }] }, { role: "user", content: [{ type: "tool_result", tool_use_id: "t1", content: "ok" }] }] }),
    want: { messages: [{ role: "assistant", content: "", tool_calls: [{ id: "t1", function: { name: "Bash", arguments: {} } }] }, { role: "tool", content: "ok", tool_name: "Bash" }] },
  },
  {
    name: "Request_UnknownBlocksDropped",
    req: base({ messages: [{ role: "assistant", content: [{ type: "redacted_thinking", data: "x" }, { type: "text", text: "hi" }] }] }),
    want: { messages: [{ role: "assistant", content: "hi" }] },
  },
  {
    name: "Request_ToolsNativeDeferredDropped",
    req: base({ tools: [{ name: "Write", description: "w", input_schema: { type: "object" } }, { name: "Later", input_schema: { type: "object" }, defer_loading: true } as never] }),
    want: { tools: [{ type: "function", function: { name: "Write", description: "w", parameters: { type: "object" } } }] },
  },
  {
    name: "Request_ToolChoiceNoneDropsTools",
    req: base({ tools: [{ name: "Write", input_schema: { type: "object" } }], tool_choice: { type: "none" } }),
    want: { tools: undefined },
  },
  {
    name: "Request_ToolsDroppedWhenNotNative",
    req: base({ tools: [{ name: "Write", input_schema: { type: "object" } }] }),
    opts: { nativeTools: false },
    want: { tools: undefined },
  },
  {
    name: "Request_SamplingOptionsAndNumCtx",
    req: base({ max_tokens: 512, temperature: 0.2, top_p: 0.9, top_k: 40, stop_sequences: ["END"] }),
    opts: { numCtx: 32768 },
    // stop_sequences stay with atrad (it finds them in the text): Ollama would hide which matched.
    want: { stream: true, options: { num_predict: 512, temperature: 0.2, top_p: 0.9, top_k: 40, num_ctx: 32768 } },
  },
  { name: "Request_ThinkingEnabled", req: base({ thinking: { type: "enabled", budget_tokens: 1000 } }), want: { think: true } },
  { name: "Request_ThinkingDisabled", req: base({ thinking: { type: "disabled" } }), want: { think: false } },
  { name: "Request_ThinkingAdaptiveLeavesModelDefault", req: base({ thinking: { type: "adaptive" } }), want: { think: undefined } },
];

describe("toOllamaChat", () => {
  for (const c of cases) {
    test(c.name, () => {
      const got = toOllamaChat(normalise(c.req), "qwen2.5:3b", { nativeTools: c.opts?.nativeTools ?? true, numCtx: c.opts?.numCtx });
      expect(got.model).toBe("qwen2.5:3b");
      const present = Object.fromEntries(Object.entries(c.want).filter(([, v]) => v !== undefined));
      expect(got).toMatchObject(present);
      for (const [k, v] of Object.entries(c.want)) if (v === undefined) expect(k in got).toBe(false);
    });
  }

  test("Request_UrlImageRejected", () => {
    const req = base({ messages: [{ role: "user", content: [{ type: "image", source: { type: "url", url: "https://x/y.png" } }] }] });
    expect(() => toOllamaChat(normalise(req), "m", { nativeTools: true })).toThrow(/must be base64/);
  });
});
