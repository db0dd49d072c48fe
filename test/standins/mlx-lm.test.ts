/**
 * The stand-ins speak the protocol: the official `openai` npm client drives both flavours,
 * and the quirks they reproduce are visible on the wire.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import OpenAI from "openai";
import { startOpenAIStandIn, type OpenAIStandIn } from "./mlx-lm.ts";

let mlx: OpenAIStandIn;
let vllm: OpenAIStandIn;
const MODEL = "mlx-community/Qwen2.5-Coder-7B-Instruct-4bit";

beforeAll(() => {
  mlx = startOpenAIStandIn({ flavor: "mlx" });
  vllm = startOpenAIStandIn({ flavor: "piecewise" });
});
afterAll(async () => {
  await mlx.stop();
  await vllm.stop();
});

const clientFor = (s: OpenAIStandIn) => new OpenAI({ baseURL: `${s.url}/v1`, apiKey: "none", maxRetries: 0 });
const tools = [{ type: "function" as const, function: { name: "Write", parameters: { type: "object", properties: { file_path: { type: "string" } } } } }];

for (const flavor of ["mlx", "piecewise"] as const) {
  describe(`stand-in ${flavor} via the official openai client`, () => {
    const s = () => (flavor === "mlx" ? mlx : vllm);

    test("lists models", async () => {
      const page = await clientFor(s()).models.list();
      expect(page.data.map((m) => m.id)).toEqual([MODEL]);
    });

    test("non-streaming completion with usage", async () => {
      s().reply = () => ({ items: [{ text: "hi there" }], usage: { prompt: 5, completion: 2 } });
      const r = await clientFor(s()).chat.completions.create({ model: MODEL, messages: [{ role: "user", content: "hi" }] });
      expect(r.choices[0]!.message.content).toBe("hi there");
      expect(r.choices[0]!.finish_reason).toBe("stop");
      expect(r.usage).toMatchObject({ prompt_tokens: 5, completion_tokens: 2 });
    });

    test("streamed text and tool call reassemble; usage only with include_usage", async () => {
      s().reply = () => ({ items: [{ text: "line 1\n\n    indented" }, { tool: { name: "Write", arguments: '{"file_path": "/tmp/x"}' } }] });
      for (const includeUsage of [false, true]) {
        const stream = await clientFor(s()).chat.completions.create({
          model: MODEL,
          messages: [{ role: "user", content: "go" }],
          tools,
          stream: true,
          ...(includeUsage ? { stream_options: { include_usage: true } } : {}),
        });
        let text = "";
        const args = new Map<number, string>();
        const names = new Map<number, string>();
        let finish: string | null = null;
        let usage: unknown = null;
        let toolChunks = 0;
        for await (const chunk of stream) {
          if (chunk.usage) usage = chunk.usage;
          const c = chunk.choices[0];
          if (!c) continue;
          text += c.delta.content ?? "";
          for (const tc of c.delta.tool_calls ?? []) {
            toolChunks++;
            if (tc.function?.name) names.set(tc.index, tc.function.name);
            args.set(tc.index, (args.get(tc.index) ?? "") + (tc.function?.arguments ?? ""));
          }
          finish = c.finish_reason ?? finish;
        }
        expect(text).toBe("line 1\n\n    indented");
        expect(names.get(0)).toBe("Write");
        expect(JSON.parse(args.get(0)!)).toEqual({ file_path: "/tmp/x" });
        expect(finish).toBe("tool_calls");
        expect(usage !== null).toBe(includeUsage);
        // mlx_lm.server sends the call whole; the piecewise server splits the arguments.
        if (flavor === "mlx") expect(toolChunks).toBe(1);
        else expect(toolChunks).toBeGreaterThan(2);
      }
    });

    test("unknown model is a 404 in the flavour's error shape", async () => {
      const err = (await clientFor(s()).chat.completions.create({ model: "nope", messages: [{ role: "user", content: "x" }] }).catch((e) => e)) as InstanceType<typeof OpenAI.APIError>;
      expect(err).toBeInstanceOf(OpenAI.NotFoundError);
      // The client unwraps the body's `error` member: a bare string from mlx_lm.server.
      if (flavor === "mlx") expect(err.error).toStartWith("404 Client Error. Repository Not Found");
      else expect(err.message).toContain("does not exist");
    });
  });
}

describe("mlx_lm.server quirks on the wire", () => {
  test("a chunked body (no Content-Length) is answered 411", async () => {
    const body = new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode(JSON.stringify({ model: MODEL, messages: [] })));
        c.close();
      },
    });
    const res = await fetch(`${mlx.url}/v1/chat/completions`, { method: "POST", body, headers: { "content-type": "application/json" } });
    expect(res.status).toBe(411);
    expect(await res.json()).toEqual({ error: "Content-Length header is required" });
  });

  test("an image part is refused with a 404 string error", async () => {
    const err = (await clientFor(mlx)
      .chat.completions.create({ model: MODEL, messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: "data:image/png;base64,AAAA" } }] }] })
      .catch((e) => e)) as InstanceType<typeof OpenAI.APIError>;
    expect(err.status).toBe(404);
    expect(err.error).toBe("Only 'text' content type is supported.");
  });

  test("GET /health", async () => {
    expect(await (await fetch(`${mlx.url}/health`)).json()).toEqual({ status: "ok" });
  });

  test("usage comes last with empty choices, before [DONE], and keepalive comments precede", async () => {
    mlx.reply = () => ({ items: [{ text: "ok" }] });
    const res = await fetch(`${mlx.url}/v1/chat/completions`, {
      method: "POST",
      body: JSON.stringify({ model: MODEL, messages: [{ role: "user", content: "x" }], stream: true, stream_options: { include_usage: true } }),
    });
    const raw = await res.text();
    const frames = raw.split("\n\n").filter(Boolean);
    expect(frames[0]).toStartWith(": keepalive");
    expect(frames.at(-1)).toBe("data: [DONE]");
    expect(JSON.parse(frames.at(-2)!.slice(6))).toMatchObject({ choices: [], usage: { prompt_tokens: 42 } });
  });
});
