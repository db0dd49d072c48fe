/** `atrad doctor` on Claude Code's needs: each routed model's window, the last session's cache share. */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { checkLastSessionCache, checkWindows } from "../../src/cli/doctor-cache.ts";
import { startOllamaChatStandIn, type ChatStandIn } from "../standins/ollama-chat.ts";
import { testConfig } from "../support/daemon.ts";

let small: ChatStandIn;
let large: ChatStandIn;
beforeAll(() => {
  small = startOllamaChatStandIn({ models: ["tiny:3b"], window: { trained: 32768, loaded: 8192 } });
  large = startOllamaChatStandIn({ models: ["big:32b"], window: { trained: 131072, loaded: 65536 } });
});
afterAll(async () => {
  await small.stop();
  await large.stop();
});

describe("doctor: windows", () => {
  test("a routed model under 32k is a warning that says how to fix it; others pass with their window", async () => {
    const config = testConfig(`
[providers.small]
kind = "ollama"
url = "${small.url}"
[providers.large]
kind = "ollama"
url = "${large.url}"
[providers.pinned]
kind = "ollama"
url = "${small.url}"
num_ctx = 40000
[routes]
default = ["large/big:32b"]
background = ["small/tiny:3b"]
aliases = { pinned = ["pinned/tiny:3b"] }
`);
    const checks = await checkWindows(config);
    const by = (name: string) => checks.find((c) => c.name === `window ${name}`)!;
    expect(by("large/big:32b")).toMatchObject({ level: "ok", detail: "65536 tokens" });
    expect(by("small/tiny:3b")).toMatchObject({ level: "warn", fix: "set num_ctx = 32768 (or more) in [providers.small]" });
    expect(by("small/tiny:3b").detail).toStartWith("8192 tokens");
    expect(by("pinned/tiny:3b")).toMatchObject({ level: "ok", detail: "40000 tokens" });
  });
});

describe("doctor: the last session's cache share", () => {
  const home = () => {
    const h = mkdtempSync(join(tmpdir(), "atrad-doctor-cache-"));
    mkdirSync(join(h, "logs"));
    return h;
  };
  const log = (h: string, records: object[]) => writeFileSync(join(h, "logs", "requests.jsonl"), records.map((r) => JSON.stringify(r)).join("\n") + "\n");

  test("the share of the last session's later prompts", () => {
    const h = home();
    log(h, [
      { session_id: "older-session", input_tokens: 10000, cache_read_tokens: 0 },
      { session_id: "last-session-1", input_tokens: 12000, cache_read_tokens: 0 },
      { session_id: "last-session-1", input_tokens: 100, cache_read_tokens: 11900 },
      { session_id: "last-session-1", input_tokens: 300, cache_read_tokens: 11700 },
    ]);
    expect(checkLastSessionCache(h)).toMatchObject({ level: "ok", detail: "last session (last-ses…): 98 % of 2 prompts after its first served from the server's cache" });
  });

  test("a session that re-prefills every turn is a warning", () => {
    const h = home();
    log(h, [
      { session_id: "s", input_tokens: 12000, cache_read_tokens: 0 },
      { session_id: "s", input_tokens: 9000, cache_read_tokens: 3000 },
    ]);
    expect(checkLastSessionCache(h).level).toBe("warn");
  });

  test("no log, or no cache figures: said plainly", () => {
    expect(checkLastSessionCache(mkdtempSync(join(tmpdir(), "atrad-doctor-none-"))).detail).toBe("no requests logged yet");
    const h = home();
    log(h, [{ session_id: "s", input_tokens: 10, cache_read_tokens: null }]);
    expect(checkLastSessionCache(h).detail).toBe("no server has reported cache figures yet");
  });
});
