/**
 * Memory a client can make the daemon keep: `atrad serve` as a real process, fed 200 requests
 * whose model names are 1 MB each, every one from a new session, then 200 good requests whose
 * session ids are 1 MB each. The names are refused at the boundary, the ids are clipped, and
 * the recent-requests list and session map are bounded in bytes: RSS stays put.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startFaulty, type Faulty } from "../standins/faulty.ts";
import { freePort, ROOT, waitForHealth } from "../support/binary.ts";
import { noDefaultServices } from "../support/services.ts";
import { rssOf, until } from "./support.ts";

let faulty: Faulty;
let proc: ReturnType<typeof Bun.spawn>;
let url: string;

beforeAll(async () => {
  faulty = startFaulty();
  const home = mkdtempSync(join(tmpdir(), "atrad-bounded-"));
  const file = join(home, "config.toml");
  const port = freePort();
  writeFileSync(file, `[server]\nport = ${port}\n[providers.f]\nkind = "openai"\nurl = "${faulty.url}"\nmodels = ["ok"]\n[routes]\ndefault = ["f/ok"]\n${noDefaultServices()}`);
  proc = Bun.spawn([process.execPath, join(ROOT, "src/main.ts"), "serve", "--config", file], { env: { ...process.env, ATRAD_HOME: home, HOME: home }, stdout: "ignore", stderr: "ignore" });
  url = `http://127.0.0.1:${port}`;
  await waitForHealth(url);
});
afterAll(async () => {
  proc?.kill("SIGKILL");
  await faulty?.stop();
});

const MB = 1024 * 1024;
const session = (id: string) => ({ user_id: JSON.stringify({ session_id: id }) });
const send = (model: string, sessionId: string) =>
  fetch(`${url}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ model, max_tokens: 8, metadata: session(sessionId), messages: [{ role: "user", content: "hi" }] }),
  }).then(async (r) => [r.status, await r.arrayBuffer()] as const);

test("200 × 1 MB model names from distinct sessions, then 200 × 1 MB session ids: RSS grows < 100 MB", async () => {
  for (let i = 0; i < 20; i++) await send("f/ok", `warm-${i}`);
  const before = rssOf(proc.pid);
  const statuses = new Map<number, number>();
  // Four at a time: the bound is on what is kept, not on how fast it arrives.
  const batch = async (n: number, one: (i: number) => ReturnType<typeof send>) => {
    for (let i = 0; i < n; i += 4)
      for (const [status] of await Promise.all([i, i + 1, i + 2, i + 3].map(one))) statuses.set(status, (statuses.get(status) ?? 0) + 1);
  };
  await batch(200, (i) => send(`f/${String(i).padStart(4, "0")}${"m".repeat(MB)}`, `session-${i}`));
  await batch(200, (i) => send("f/ok", `${String(i).padStart(4, "0")}${"s".repeat(MB)}`));
  // Garbage of the 400 MB sent is not kept memory: give the idle daemon's collector up to 10 s
  // to bring RSS under the bound; memory that is really kept never gets there.
  let after = rssOf(proc.pid);
  await until("RSS to settle within 100 MB of the start", () => (after = rssOf(proc.pid)) - before < 100 * MB, 10_000, 100).catch(() => {});
  const kept = JSON.stringify(((await (await fetch(`${url}/atrad/requests`)).json()) as { requests: unknown[] }).requests).length;
  console.log(`bounded: statuses ${JSON.stringify(Object.fromEntries(statuses))}, RSS ${(before / MB).toFixed(1)} → ${(after / MB).toFixed(1)} MB, /atrad/requests ${kept} bytes`);
  expect(statuses.get(400)).toBe(200);
  expect(statuses.get(200)).toBe(200);
  expect(kept).toBeLessThan(256 * 1024);
  expect(after - before).toBeLessThan(100 * MB);
}, 120_000);
