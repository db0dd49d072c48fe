/**
 * An upstream that stays silent for longer than the ping interval and then fails with 529
 * (Ollama loading a model, then giving up) must reach each client as a 529 it retries — not
 * as an `error` event inside a committed 200, which LangChain and the SDK raise as a generic
 * APIError without retrying. Each client's retries are counted at the upstream (its first
 * try plus its retries); the windows are set by config, nothing is timed. The upstream says
 * `retry-after: 0`, which atrad passes on and the Vercel AI SDK honours; LangChain backs off
 * a second or more per retry whatever the headers, so it is given one retry. The official
 * SDK's case is test/traffic/early-errors.test.ts.
 */
import { createAnthropic } from "@ai-sdk/anthropic";
import { ChatAnthropic } from "@langchain/anthropic";
import { generateText, streamText } from "ai";
import { describe, expect, test } from "bun:test";
import { startCounting, type Counting } from "../standins/counting.ts";
import { atradInFrontOf } from "../support/gateway.ts";
import { noDefaultServices } from "../support/services.ts";

// One upstream (and provider) per case, so the cases run at once: LangChain's backoff is its own.
const CASES = ["lcStream", "lcWhole", "aiStream", "aiWhole"] as const;
const { atrad, ...ups } = await atradInFrontOf(
  Object.fromEntries(CASES.map((c) => [c, startCounting(c)])) as Record<(typeof CASES)[number], Counting>,
  (ups) => `
[server]
ping_interval_s = 0.05
stream_commit_s = 30
${CASES.map((c) => `[providers.${c}]\nkind = "anthropic"\nurl = "${ups[c].url}"\nmodels = ["m"]\n`).join("")}
[routes]
default = ["lcStream/m"]
${noDefaultServices()}
`,
);

const OVERLOADED = JSON.stringify({ type: "error", error: { type: "overloaded_error", message: "upstream is overloaded" } });
/** 529 after 150 ms: three ping intervals of silence. Returns the case's upstream and model. */
const slowFailure = (c: (typeof CASES)[number]) => {
  const up = ups[c];
  up.hits = 0;
  up.mode = { delayMs: 150, status: 529, body: OVERLOADED, headers: { "retry-after": "0" } };
  return { up, model: `${c}/m` };
};
const status = (err: unknown) => (err as { status?: number; statusCode?: number }).status ?? (err as { statusCode?: number }).statusCode;

describe.concurrent("529 after a silence: every client gets a 529 and retries it", () => {
  test.concurrent.each([
    ["streaming", true, "lcStream"],
    ["non-streaming", false, "lcWhole"],
  ] as const)("LangChain ChatAnthropic (%s): a 529, retried", async (_name, stream, c) => {
    const { up, model } = slowFailure(c);
    const chat = new ChatAnthropic({ model, anthropicApiUrl: atrad.url, apiKey: "x", maxRetries: 1, maxTokens: 16 });
    const err = await (stream
      ? chat.stream("hi").then(async (s) => {
          for await (const _ of s);
        })
      : chat.invoke("hi")
    ).then(() => undefined, (e: unknown) => e);
    expect(status(err)).toBe(529);
    expect(up.hits).toBe(2);
  }, 15_000);

  test.concurrent.each([
    ["streaming", true, "aiStream"],
    ["non-streaming", false, "aiWhole"],
  ] as const)("Vercel AI SDK (%s): a 529, retried", async (_name, stream, c) => {
    const { up, model: name } = slowFailure(c);
    const model = createAnthropic({ baseURL: `${atrad.url}/v1`, apiKey: "x" })(name);
    let err: unknown;
    if (stream) {
      const result = streamText({ model, prompt: "hi", maxOutputTokens: 16, maxRetries: 2, onError: ({ error }) => void (err = error) });
      await result.consumeStream();
    } else err = await generateText({ model, prompt: "hi", maxOutputTokens: 16, maxRetries: 2 }).then(() => undefined, (e: unknown) => e);
    const last = (err as { lastError?: unknown }).lastError ?? err;
    expect(status(last)).toBe(529);
    expect(up.hits).toBe(3);
  }, 15_000);
});
