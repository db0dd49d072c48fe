/**
 * atrad in front of stand-ins, for one test file. At the top of the file,
 *
 *   const { ollama, atrad, client } = await atradInFrontOf({ ollama: startOllamaStandIn() }, ({ ollama }) => toml);
 *
 * takes the started stand-ins, starts a daemon on the config written from their urls, and
 * stops the daemon and then the stand-ins once the file's tests are done (or at once, if the
 * daemon does not start). `client` is the official Anthropic SDK on the daemon, without
 * retries, so a test sees each answer as atrad gave it. `withAtradInFrontOf` is the same
 * for one test's own stack.
 */
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, expect } from "bun:test";
import { startTestDaemon, type TestDaemon } from "./daemon.ts";

interface Stoppable {
  stop(): unknown;
}

export async function atradInFrontOf<S extends Record<string, Stoppable>>(
  standins: S,
  config: (standins: S) => string,
  env: Record<string, string> = {},
): Promise<Gateway<S>> {
  const gateway = await start(standins, config, env);
  afterAll(gateway.stop);
  return gateway;
}

/** The same for one test: `run` gets the daemon in front of `standins`, and all of it stops after, pass or fail. */
export async function withAtradInFrontOf<S extends Record<string, Stoppable>, T>(standins: S, config: (standins: S) => string, run: (gateway: Gateway<S>) => Promise<T>): Promise<T> {
  const gateway = await start(standins, config, {});
  try {
    return await run(gateway);
  } finally {
    await gateway.stop();
  }
}

export type Gateway<S> = S & { atrad: TestDaemon; client: Anthropic; stop(): Promise<void> };

async function start<S extends Record<string, Stoppable>>(standins: S, config: (standins: S) => string, env: Record<string, string>): Promise<Gateway<S>> {
  const stopStandins = async () => void (await Promise.all(Object.values(standins).map((s) => s.stop())));
  let atrad: TestDaemon;
  try {
    atrad = await startTestDaemon(config(standins), env);
  } catch (err) {
    await stopStandins();
    throw err;
  }
  const stop = async () => {
    await atrad.stop();
    await stopStandins();
  };
  return { ...standins, atrad, client: new Anthropic({ baseURL: atrad.url, apiKey: "test-key", maxRetries: 0 }), stop };
}

/**
 * The Ollama stand-in on the anthropic kind (Ollama's own /v1/messages), with Claude Code's
 * default route on its coder model and the haiku route on its small one: the stack most
 * client-facing tests stand on.
 */
export function ollamaToml(url: string): string {
  return `[providers.ollama]
kind = "anthropic"
url = "${url}"
[routes]
default = ["ollama/qwen2.5-coder:32b"]
haiku = ["ollama/phi3.5:3.8b"]
`;
}

/** The longest wait between two status polls under FAST_POLL: a test that proves polling stopped waits a few of these. */
export const FAST_MAX_POLL_S = 0.05;
/** Victoria's status polls for tests: 0.02 s doubling to 0.05 s (the defaults are 0.5 s doubling to 5 s). */
export const FAST_POLL = `poll_interval_s = 0.02\nmax_poll_interval_s = ${FAST_MAX_POLL_S}\n`;

/**
 * The Victoria stand-in as provider `victoria`, with the stream commit at 0.2 s and pings every
 * 0.05 s, so a stream held while Victoria works commits and shows its pings within a test's
 * patience. (A shorter commit window would, on a loaded machine, commit before Victoria's 202
 * and start the stream with a ping instead of message_start.)
 */
export function victoriaToml(url: string): string {
  return `[server]
ping_interval_s = 0.05
stream_commit_s = 0.2
[providers.victoria]
kind = "victoria"
url = "${url}"
${FAST_POLL}
`;
}

/** Read an SDK message stream to its end: the text as its `text` events delivered it, and the final message. */
export async function streamText(stream: ReturnType<Anthropic["messages"]["stream"]>): Promise<{ text: string; final: Anthropic.Message }> {
  let text = "";
  stream.on("text", (t: string) => (text += t));
  const final = await stream.finalMessage();
  return { text, final };
}

/**
 * Claude Code's side of parallel tool calls: ask for /a, /b and /c, check that the model's turn
 * calls a tool on each in that order, and answer with the results in `order` (the order the
 * calls finished, not the order they were made). Returns the model's next turn.
 */
export async function readsAnsweredInOrder(client: Anthropic, model: string, tools: Anthropic.Tool[], order: number[]): Promise<Anthropic.Message> {
  const ask = { role: "user" as const, content: "read a, b and c" };
  const first = await client.messages.create({ model, max_tokens: 100, tools, messages: [ask] });
  const uses = first.content.filter((b) => b.type === "tool_use");
  expect(uses.map((u) => (u.input as { path: string }).path)).toEqual(["/a", "/b", "/c"]);
  const results = order.map((i) => ({ type: "tool_result" as const, tool_use_id: uses[i]!.id, content: `contents of ${(uses[i]!.input as { path: string }).path}` }));
  return client.messages.create({ model, max_tokens: 100, tools, messages: [ask, { role: "assistant", content: first.content }, { role: "user", content: results }] });
}
