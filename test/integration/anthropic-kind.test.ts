/**
 * The `anthropic` kind against a stand-in that behaves like Ollama's /v1/messages, driven by
 * the official Anthropic SDK over real sockets.
 */
import Anthropic from "@anthropic-ai/sdk";
import { describe, expect, test } from "bun:test";
import { startOllamaStandIn } from "../standins/ollama.ts";
import { atradInFrontOf, ollamaToml, streamText } from "../support/gateway.ts";

const { ollama, atrad, client } = await atradInFrontOf({ ollama: startOllamaStandIn() }, ({ ollama }) => ollamaToml(ollama.url));

describe("anthropic kind via the official SDK", () => {
  test("non-streaming text", async () => {
    ollama.reply = () => ({ items: [{ text: "hello from qwen" }] });
    const msg = await client.messages.create({ model: "claude-sonnet-5", max_tokens: 100, messages: [{ role: "user", content: "hi" }] });
    expect(msg.content as unknown).toEqual([{ type: "text", text: "hello from qwen" }]);
    expect(msg.stop_reason).toBe("end_turn");
    expect(ollama.received.at(-1)!.body.model).toBe("qwen2.5-coder:32b");
  });

  // Ollama sends thinking blocks without a signature; the SDK's types (and the Vercel AI SDK's
  // schema) say it is a string.
  test("thinking blocks carry a signature, streaming and not, when the upstream sends none", async () => {
    ollama.reply = () => ({ items: [{ thinking: "hm" }, { text: "ok" }] });
    const ask = { model: "claude-sonnet-5", max_tokens: 100, messages: [{ role: "user" as const, content: "hi" }] };
    const whole = await client.messages.create(ask);
    expect(whole.content[0] as unknown).toEqual({ type: "thinking", thinking: "hm", signature: "" });
    const streamed = await client.messages.stream(ask).finalMessage();
    expect(streamed.content[0] as unknown).toEqual({ type: "thinking", thinking: "hm", signature: "" });
  });

  test("streaming text arrives byte-for-byte, with indentation and blank lines", async () => {
    const text = "def f():\n    return 1\n\n\n\tx = [1,  2]\n";
    ollama.reply = () => ({ items: [{ text }] });
    const { text: streamed, final } = await streamText(client.messages.stream({ model: "claude-haiku-5", max_tokens: 100, messages: [{ role: "user", content: "code" }] }));
    expect(streamed).toBe(text);
    expect(final.content[0] as unknown).toEqual({ type: "text", text });
    expect(ollama.received.at(-1)!.body.model).toBe("phi3.5:3.8b");
  });

  test("tool_use round trip: the tool result reaches the upstream", async () => {
    ollama.reply = (body) => {
      const last = body.messages.at(-1);
      const result = Array.isArray(last.content) ? last.content.find((b: any) => b.type === "tool_result") : undefined;
      return result
        ? { items: [{ text: `file says ${result.content}` }] }
        : { items: [{ text: "Reading." }, { tool: { id: "toolu_1", name: "Read", input: { path: "/tmp/a.txt" } } }] };
    };
    const tools = [{ name: "Read", description: "read a file", input_schema: { type: "object" as const, properties: { path: { type: "string" } }, required: ["path"] } }];
    const first = await client.messages.stream({ model: "claude-opus-5-5", max_tokens: 100, tools, messages: [{ role: "user", content: "read it" }] }).finalMessage();
    expect(first.stop_reason).toBe("tool_use");
    const call = first.content.find((b) => b.type === "tool_use")!;
    expect(call).toMatchObject({ type: "tool_use", id: "toolu_1", name: "Read", input: { path: "/tmp/a.txt" } });
    const second = await client.messages.create({
      model: "claude-opus-5-5",
      max_tokens: 100,
      tools,
      messages: [
        { role: "user", content: "read it" },
        { role: "assistant", content: first.content as any },
        { role: "user", content: [{ type: "tool_result", tool_use_id: "toolu_1", content: "42" }] },
      ],
    });
    expect(second.content[0] as unknown).toEqual({ type: "text", text: "file says 42" });
  });

  test("unknown model: Ollama's 404 is relayed unmodified", async () => {
    const err = await client.messages.create({ model: "ollama/nope:1b", max_tokens: 10, messages: [{ role: "user", content: "x" }] }).catch((e) => e);
    expect(err).toBeInstanceOf(Anthropic.NotFoundError);
    expect(err.error).toMatchObject({ type: "error", error: { type: "not_found_error", message: "model 'nope:1b' not found" } });
  });
});
