/**
 * Hot reload: a route change applies to the next request while a stream started before it
 * completes intact; an invalid file is rejected, the old routes keep serving, and the error
 * (file and key) shows in the status document.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../../src/cli/index.ts";
import { loadConfig } from "../../src/config/load.ts";
import { startDaemon, type Daemon } from "../../src/daemon/daemon.ts";
import { silentLogger } from "../../src/log.ts";
import { startOllamaStandIn, type OllamaStandIn } from "../standins/ollama.ts";
import { post, readEvents } from "../support/sse.ts";

let ollama: OllamaStandIn;
let atrad: Daemon;
const home = mkdtempSync(join(tmpdir(), "atrad-reload-"));
const file = join(home, "config.toml");
const env = { ATRAD_HOME: home, HOME: home };
const configWith = (route: string) => `[providers.ollama]\nkind = "anthropic"\nurl = "${ollama.url}"\n[routes]\ndefault = ["${route}"]\n`;
const ask = (stream = false) => post(`${atrad.url}/v1/messages`, { model: "claude-opus-5-5", max_tokens: 5, stream, messages: [{ role: "user", content: "q" }] });

beforeAll(async () => {
  ollama = startOllamaStandIn();
  writeFileSync(file, configWith("ollama/qwen2.5-coder:32b"));
  const load = () => loadConfig({ env, file });
  atrad = await startDaemon({ config: load(), host: "127.0.0.1", port: 0, logger: silentLogger, watch: true, load });
});
afterAll(async () => {
  await atrad.stop();
  await ollama.stop();
});

test("a route change applies to the next request; a stream started before it completes intact", async () => {
  const long = "word ".repeat(40);
  // The old route's stream is held open after its first event until the reload and the next request are done.
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  ollama.reply = (body) => (body.model === "qwen2.5-coder:32b" ? { items: [{ text: long }], hold: held } : { items: [{ text: "new route" }] });
  const res = await ask(true);
  expect(res.headers.get("x-atrad-target")).toBe("ollama/qwen2.5-coder:32b");
  writeFileSync(file, configWith("ollama/phi3.5:3.8b"));
  expect(atrad.reload()).toMatchObject({ ok: true, changed: true });
  const next = await ask();
  release();
  expect(next.headers.get("x-atrad-target")).toBe("ollama/phi3.5:3.8b");
  const events = await readEvents(res);
  const text = events.filter((e) => e.event === "content_block_delta").map((e) => e.data.delta.text).join("");
  expect(text).toBe(long);
  expect(events.at(-1)!.event).toBe("message_stop");
});

test("an invalid file is rejected; the old routes keep serving and status names file and key", async () => {
  writeFileSync(file, configWith("ollama/phi3.5:3.8b") + `[server]\nport = "not a port"\n`);
  const result = atrad.reload();
  expect(result.ok).toBe(false);
  expect(result.error).toContain("server.port");
  expect((await ask()).headers.get("x-atrad-target")).toBe("ollama/phi3.5:3.8b");
  const status: any = await (await fetch(`${atrad.url}/atrad/status`)).json();
  expect(status.config.error).toContain(file);
  expect(status.config.error).toContain("server.port");
  // `atrad reload` says the same and exits non-zero.
  let err = "";
  const code = await runCli(["reload", "--url", atrad.url], { out: () => {}, err: (t) => (err += t), env, isTTY: false });
  expect(code).toBe(1);
  expect(err).toContain("server.port");
});

test("editing the file is enough: the watcher reloads it", async () => {
  writeFileSync(file, configWith("ollama/qwen2.5-coder:32b"));
  for (let i = 0; i < 100; i++) {
    if ((await ask()).headers.get("x-atrad-target") === "ollama/qwen2.5-coder:32b") break;
    await Bun.sleep(50);
  }
  expect((await ask()).headers.get("x-atrad-target")).toBe("ollama/qwen2.5-coder:32b");
  const status: any = await (await fetch(`${atrad.url}/atrad/status`)).json();
  expect(status.config.error).toBeNull();
});
