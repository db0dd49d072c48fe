/**
 * `atrad serve` as a real process (run from source, so it is the code under test): SIGTERM with
 * streams in flight drains them (finished within the grace, or ended with an `error` event,
 * never cut mid-frame), refuses new connections, and exits well under launchd's 20 s. Also:
 * unsafe binds and broken configs refuse to start, the config file is never rewritten, and
 * tokens never reach a log.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseSse } from "../../src/wire/sse.ts";
import type { StreamEvent } from "../../src/anthropic/types.ts";
import { startFaulty, type Faulty } from "../standins/faulty.ts";
import { freePort, ROOT, waitForHealth } from "../support/binary.ts";
import { noDefaultServices } from "../support/services.ts";
import { wellFormedProblems } from "./support.ts";

const MAIN = join(ROOT, "src/main.ts");
const TOKEN = "never-log-me-7f3a9c1e5b";
let faulty: Faulty;

beforeAll(() => {
  faulty = startFaulty();
});
afterAll(async () => {
  await faulty?.stop();
});

function setup(extra = "", graceS = 3) {
  const home = mkdtempSync(join(tmpdir(), "atrad-shutdown-"));
  const file = join(home, "config.toml");
  const port = freePort();
  writeFileSync(
    file,
    `# the user's own comments and layout must survive
[server]
port = ${port}
auth_tokens = ["${TOKEN}"]
shutdown_grace_s = ${graceS}
${extra}
[providers.f]
kind = "openai"
url = "${faulty.url}"
models = ["slow", "ok"]
[routes]
default = ["f/ok"]
${noDefaultServices()}`,
  );
  return { home, file, port, url: `http://127.0.0.1:${port}`, env: { ...process.env, ATRAD_HOME: home, HOME: home } };
}

const sha = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");

function serve(s: ReturnType<typeof setup>, args: string[] = []) {
  return Bun.spawn([process.execPath, MAIN, "serve", "--config", s.file, ...args], { env: s.env, stdout: "pipe", stderr: "pipe" });
}

async function stream(url: string, model: string) {
  const res = await fetch(`${url}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-api-key": TOKEN },
    body: JSON.stringify({ model, max_tokens: 64, stream: true, messages: [{ role: "user", content: "hi" }] }),
  });
  const events: StreamEvent[] = [];
  const reading = (async () => {
    for await (const m of parseSse(res.body!)) events.push(JSON.parse(m.data));
  })();
  return { res, events, reading };
}

async function sigtermWithStreams(slowDelayMs: number, graceS: number) {
  faulty.slowDelayMs = slowDelayMs;
  const s = setup("", graceS);
  const proc = serve(s);
  try {
    await waitForHealth(s.url);
    const streams = await Promise.all(Array.from({ length: 4 }, () => stream(s.url, "f/slow")));
    // Let every stream get going before the signal.
    for (const st of streams) while (!st.events.some((e) => e.type === "content_block_delta")) await Bun.sleep(20);
    const t0 = performance.now();
    proc.kill("SIGTERM");
    await Bun.sleep(300);
    const late = await fetch(`${s.url}/health`).then((r) => r.status, () => "refused");
    await Promise.all(streams.map((st) => st.reading.catch(() => {})));
    const code = await proc.exited;
    const exitMs = performance.now() - t0;
    return { streams, late, code, exitMs, stderr: await new Response(proc.stderr).text() };
  } finally {
    proc.kill("SIGKILL");
  }
}

describe("SIGTERM with streams in flight", () => {
  test("streams that finish within the grace end with message_stop; no new requests; exit 0", async () => {
    // 40 ticks x 10 ms ≈ 0.4 s of streaming left, grace 3 s: the exit waits for the streams, not the grace.
    const r = await sigtermWithStreams(10, 3);
    expect(r.late).toBe("refused");
    for (const st of r.streams) {
      expect(wellFormedProblems(st.events)).toEqual([]);
      expect(st.events.at(-1)!.type).toBe("message_stop");
    }
    expect(r.code).toBe(0);
    expect(r.exitMs).toBeLessThan(20_000);
    console.log(`drain: 4 streams finished, exit after ${Math.round(r.exitMs)} ms`);
  }, 40_000);

  test("streams longer than the grace end with an error event, not a cut; exit under 20 s", async () => {
    // 40 ticks x 500 ms = 20 s of streaming, grace 0.5 s (past the 300 ms "refused" probe).
    const r = await sigtermWithStreams(500, 0.5);
    expect(r.late).toBe("refused");
    for (const st of r.streams) {
      expect(wellFormedProblems(st.events)).toEqual([]);
      const last = st.events.at(-1)!;
      expect(last.type).toBe("error");
      expect((last as { error: { message: string } }).error.message).toContain("shutting down");
    }
    expect(r.code).toBe(0);
    expect(r.exitMs).toBeLessThan(20_000);
    console.log(`grace expired: 4 streams ended with error events, exit after ${Math.round(r.exitMs)} ms`);
  }, 40_000);
});

describe("refusing to start, and never rewriting the config", () => {
  test("a non-loopback host without auth_tokens refuses to start and says how to fix it", async () => {
    const s = setup();
    writeFileSync(s.file, readFileSync(s.file, "utf8").replace(`auth_tokens = ["${TOKEN}"]`, ""));
    const p = serve(s, ["--host", "0.0.0.0"]);
    const [code, err] = await Promise.all([p.exited, new Response(p.stderr).text()]);
    expect(code).toBe(78);
    expect(err).toContain("refusing to listen on 0.0.0.0");
    expect(err).toContain("auth_tokens");
    expect(err).toContain(s.file);
    expect(await fetch(`http://127.0.0.1:${s.port}/health`).then(() => "up", () => "down")).toBe("down");
  });

  test("a broken config refuses to start, naming the file and the key", async () => {
    const s = setup();
    writeFileSync(s.file, readFileSync(s.file, "utf8").replace("shutdown_grace_s = 3", 'shutdown_grace_s = 3\nmax_body_mb = "lots"'));
    const p = serve(s);
    const [code, err] = await Promise.all([p.exited, new Response(p.stderr).text()]);
    expect(code).toBe(78);
    expect(err).toContain(s.file);
    expect(err).toContain("max_body_mb");
    const s2 = setup();
    writeFileSync(s2.file, "[server\nport = ");
    const p2 = serve(s2);
    const [code2, err2] = await Promise.all([p2.exited, new Response(p2.stderr).text()]);
    expect(code2).toBe(78);
    expect(err2).toContain(s2.file);
  });

  test("serve, requests, SIGHUP, POST /atrad/reload and SIGTERM leave the config byte-identical; tokens are in no log", async () => {
    // Debug level: the daemon log then carries a line per request, the place a token could leak.
    const s = setup(`[log]\nlevel = "debug"\n`);
    const before = sha(s.file);
    const mtime = statSync(s.file).mtimeMs;
    const p = serve(s);
    try {
      await waitForHealth(s.url);
      faulty.slowDelayMs = 1;
      for (const auth of <Array<Record<string, string>>>[{ "x-api-key": TOKEN }, { authorization: `Bearer ${TOKEN}` }, { "x-api-key": `${TOKEN}-wrong` }]) {
        await fetch(`${s.url}/v1/messages`, { method: "POST", headers: { "content-type": "application/json", ...auth }, body: JSON.stringify({ model: "f/ok", max_tokens: 8, messages: [{ role: "user", content: "hi" }] }) }).then((r) => r.arrayBuffer());
      }
      p.kill("SIGHUP");
      const reload = await fetch(`${s.url}/atrad/reload`, { method: "POST", headers: { "x-api-key": TOKEN } });
      expect(reload.status).toBe(200);
      await fetch(`${s.url}/atrad/status`, { headers: { "x-api-key": TOKEN } }).then((r) => r.arrayBuffer());
      await Bun.sleep(300);
    } finally {
      p.kill("SIGTERM");
    }
    await p.exited;
    const stderr = await new Response(p.stderr).text();
    expect(sha(s.file)).toBe(before);
    expect(statSync(s.file).mtimeMs).toBe(mtime);
    // Every file atrad wrote (daemon log, request log, state) and its stderr: no token.
    const files: string[] = [];
    const walk = (d: string) => {
      for (const f of readdirSync(d, { withFileTypes: true })) {
        const p2 = join(d, f.name);
        if (f.isDirectory()) walk(p2);
        else if (p2 !== s.file) files.push(p2);
      }
    };
    walk(s.home);
    expect(files.some((f) => f.endsWith("requests.jsonl"))).toBe(true);
    expect(files.some((f) => f.endsWith("atrad.log"))).toBe(true);
    for (const f of files) expect(readFileSync(f, "utf8").includes(TOKEN), f).toBe(false);
    expect(stderr.includes(TOKEN)).toBe(false);
    expect(stderr).toContain("request");
  }, 30_000);
});
