/**
 * tools = "prompt" over real sockets: atrad in front of the ATRA MLX stand-in, which rejects
 * any `tools` field here, so a pass proves tools travel only in the prompt.
 */
import type Anthropic from "@anthropic-ai/sdk";
import { describe, expect, test } from "bun:test";
import { startAtraMlxStandIn } from "../standins/atra-mlx.ts";
import { providerToml } from "../support/daemon.ts";
import { atradInFrontOf, readsAnsweredInOrder, streamText } from "../support/gateway.ts";

const Write = { name: "Write", description: "Write a file", input_schema: { type: "object" as const, properties: { file_path: { type: "string" }, content: { type: "string" } }, required: ["file_path", "content"] } };
const Read = { name: "Read", description: "Read a file", input_schema: { type: "object" as const, properties: { path: { type: "string" } } } };

// The default mlx provider has tools = "prompt"; this table changes only where it lives
// (the schema wants `kind` restated in every provider table).
const { mlx, client } = await atradInFrontOf({ mlx: startAtraMlxStandIn({ toolsMode: "reject" }) }, ({ mlx }) => `
${providerToml("mlx", "ollama", mlx.url)}
[routes]
default = ["mlx/qwen2.5-3b"]
`);

const lastUser = (body: any) => body.messages.at(-1).content as string;

describe("prompt tools through atrad (official Anthropic SDK)", () => {
  test("a <tool_call> in streamed text becomes a tool_use; the result returns as text", async () => {
    const call = '<tool_call>\n{"name": "Write", "arguments": {"file_path": "/tmp/x.py", "content": "def f():\\n    return 1\\n"}}\n</tool_call>';
    mlx.reply = (body) => (lastUser(body).includes("<tool_result") ? { items: [{ text: "Done: the file is written." }] } : { items: [{ text: `I will write the file.\n${call}` }] });
    const { text: streamed, final: first } = await streamText(client.messages.stream({ model: "claude-sonnet-5", max_tokens: 200, tools: [Write, Read], messages: [{ role: "user", content: "write x.py" }] }));
    expect(streamed).toBe("I will write the file.");
    expect(first.stop_reason).toBe("tool_use");
    expect(first.content.map((b) => b.type)).toEqual(["text", "tool_use"]);
    const use = first.content[1] as Anthropic.ToolUseBlock;
    expect(use).toMatchObject({ name: "Write", input: { file_path: "/tmp/x.py", content: "def f():\n    return 1\n" } });
    expect(use.id).toMatch(/^toolu_/);

    const sent = mlx.received.at(-1)!.body;
    expect("tools" in sent).toBe(false);
    expect(sent.messages[0].role).toBe("system");
    expect(sent.messages[0].content).toContain("<tool_call>");
    expect(sent.messages[0].content).toContain('<tool name="Write">');

    const second = await client.messages.create({
      model: "claude-sonnet-5",
      max_tokens: 200,
      tools: [Write, Read],
      messages: [
        { role: "user", content: "write x.py" },
        { role: "assistant", content: first.content as never },
        { role: "user", content: [{ type: "tool_result", tool_use_id: use.id, content: "File created successfully" }] },
      ],
    });
    expect(second.content).toEqual([{ type: "text", text: "Done: the file is written." }] as never);
    expect(second.stop_reason).toBe("end_turn");
    const history = mlx.received.at(-1)!.body.messages;
    // The call goes back exactly as the model wrote it (its spacing), a prefix-cache hit.
    expect(history.at(-2)).toEqual({ role: "assistant", content: `I will write the file.\n${call}` });
    expect(history.at(-1)).toEqual({ role: "user", content: '<tool_result call="1" name="Write">\nFile created successfully\n</tool_result>' });
  });

  test("plain multi-line text with tools offered arrives byte-for-byte", async () => {
    const text = "Here:\n\n```python\nif x:\n    print({'a': 1})\n```\n\n\tdone <b>ok</b>\n";
    mlx.reply = () => ({ items: [{ text }] });
    const { text: streamed, final } = await streamText(client.messages.stream({ model: "claude-sonnet-5", max_tokens: 200, tools: [Write], messages: [{ role: "user", content: "x" }] }));
    expect(streamed).toBe(text);
    expect(final.stop_reason).toBe("end_turn");
  });

  test("a broken call is explained in text, never a tool_use with a bad input", async () => {
    mlx.reply = () => ({ items: [{ text: '<tool_call>{"name": "Write", "arguments": "just write it"}</tool_call>' }] });
    const msg = await client.messages.create({ model: "claude-sonnet-5", max_tokens: 200, tools: [Write], messages: [{ role: "user", content: "x" }] });
    expect(msg.content.every((b) => b.type === "text")).toBe(true);
    expect((msg.content[0] as Anthropic.TextBlock).text).toMatch(/tool call was not run because the arguments are a string, not a JSON object \(tool Write\)/);
    expect(msg.stop_reason).toBe("end_turn");
  });

  test("a repaired call and a bare JSON call, with an invented result cut off", async () => {
    mlx.reply = () => ({ items: [{ text: "{'name': 'Read', 'arguments': {'path': '/etc/hosts',}}\n<tool_result>\n127.0.0.1 localhost\n</tool_result>\nThe file maps localhost." }] });
    const msg = await client.messages.create({ model: "claude-sonnet-5", max_tokens: 200, tools: [Write, Read], messages: [{ role: "user", content: "x" }] });
    expect(msg.content).toMatchObject([{ type: "tool_use", name: "Read", input: { path: "/etc/hosts" } }]);
    expect(msg.stop_reason).toBe("tool_use");
  });

  test("without tools in the request the provider is used as is", async () => {
    mlx.reply = () => ({ items: [{ text: '<tool_call>{"name":"Write"}</tool_call>' }] });
    const msg = await client.messages.create({ model: "claude-sonnet-5", max_tokens: 20, messages: [{ role: "user", content: "x" }] });
    expect(msg.content).toEqual([{ type: "text", text: '<tool_call>{"name":"Write"}</tool_call>' }] as never);
  });

  // Prompt tools carry no ids: results come back in the order of the calls, each numbered. This
  // model pairs the i-th <tool_result> with its own i-th <tool_call>, as a model reading in order.
  test("parallel results sent in completion order still answer their own calls", async () => {
    const callsOf = (text: string) => [...text.matchAll(/<tool_call>\n(.*?)\n<\/tool_call>/gs)].map((m) => JSON.parse(m[1]!) as { arguments: { path: string } });
    const resultsOf = (text: string) => [...text.matchAll(/<tool_result call="(\d+)" name="Read">\n(.*?)\n<\/tool_result>/gs)].map((m) => `${m[2]}#${m[1]}`);
    mlx.reply = (body) => {
      const msgs = body.messages as Array<{ role: string; content: string }>;
      const assistant = msgs.findLast((m) => m.role === "assistant");
      if (!assistant) return { items: [{ text: ["/a", "/b", "/c"].map((path) => `<tool_call>\n${JSON.stringify({ name: "Read", arguments: { path } })}\n</tool_call>`).join("\n") }] };
      const results = resultsOf(lastUser(body));
      return { items: [{ text: callsOf(assistant.content).map((c, i) => `${c.arguments.path}=${results[i]}`).join(" ") }] };
    };
    const second = await readsAnsweredInOrder(client, "claude-sonnet-5", [Read], [1, 2, 0]);
    expect(second.content).toEqual([{ type: "text", text: "/a=contents of /a#1 /b=contents of /b#2 /c=contents of /c#3" }] as never);
  });

  test('a stop sequence in the text: stop_reason "stop_sequence" with the string', async () => {
    mlx.reply = () => ({ items: [{ text: "Reading it now.\nEND\n<tool_call>\n{}\n</tool_call>" }] });
    const msg = await client.messages.create({ model: "claude-sonnet-5", max_tokens: 100, tools: [Read], stop_sequences: ["END"], messages: [{ role: "user", content: "read" }] });
    expect([msg.content, msg.stop_reason, msg.stop_sequence]).toEqual([[{ type: "text", text: "Reading it now.\n" }], "stop_sequence", "END"] as never);
  });

  test("tool_choice: the forced tool is a rule in the prompt; disable_parallel_tool_use keeps one call", async () => {
    const two = ["/a", "/b"].map((path) => `<tool_call>\n${JSON.stringify({ name: "Read", arguments: { path } })}\n</tool_call>`).join("\n");
    mlx.reply = () => ({ items: [{ text: two }] });
    const msg = await client.messages.create({ model: "claude-sonnet-5", max_tokens: 100, tools: [Write, Read], tool_choice: { type: "tool", name: "Read", disable_parallel_tool_use: true }, messages: [{ role: "user", content: "read" }] });
    expect(msg.content).toEqual([expect.objectContaining({ type: "tool_use", name: "Read", input: { path: "/a" } })]);
    expect(msg.stop_reason).toBe("tool_use");
    const system = mlx.received.at(-1)!.body.messages[0];
    expect(system.role).toBe("system");
    expect(system.content).toContain('- Call at most one tool per answer.\n- You must call the tool "Read" in this answer.');
  });
});
