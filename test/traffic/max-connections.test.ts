/** server.max_connections: past the cap, new requests get 529 at once; capacity comes back. */
import { expect, test } from "bun:test";
import { startOllamaStandIn } from "../standins/ollama.ts";
import { providerToml } from "../support/daemon.ts";
import { atradInFrontOf } from "../support/gateway.ts";
import { post, readEvents } from "../support/sse.ts";

const { ollama, atrad } = await atradInFrontOf({ ollama: startOllamaStandIn() }, ({ ollama }) => `[server]\nmax_connections = 2\n${providerToml("ollama", "anthropic", ollama.url)}`);
const ask = (stream: boolean) => post(`${atrad.url}/v1/messages`, { model: "ollama/qwen2.5-coder:32b", max_tokens: 5, stream, messages: [{ role: "user", content: "q" }] });

test("two slow streams fill the cap; a third request gets 529 overloaded_error with retry-after", async () => {
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  ollama.reply = () => ({ items: [{ text: "a b c d e f" }], hold: held });
  const streams = [await ask(true), await ask(true)];
  // Both are held open after their first event until the third has its answer: the cap is reached.
  const third = await ask(false);
  release();
  expect(third.status).toBe(529);
  expect(third.headers.get("retry-after")).toBe("1");
  expect(((await third.json()) as any).error.type).toBe("overloaded_error");
  for (const s of streams) expect((await readEvents(s)).at(-1)!.event).toBe("message_stop");
  ollama.reply = () => ({ items: [{ text: "ok" }] });
  expect((await ask(false)).status).toBe(200);
});
