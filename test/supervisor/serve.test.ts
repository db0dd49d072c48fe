/**
 * A real `atrad serve` process with owned children: SIGTERM must leave none behind (checked in
 * the OS process table) and exit well inside launchd's 20 s; after `kill -9` the next atrad
 * adopts the orphans through the pidfile instead of starting duplicates.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { StatusDocument } from "../../src/observe/status-document.ts";
import { parseSse } from "../../src/wire/sse.ts";
import { startFaulty, type Faulty } from "../standins/faulty.ts";
import { freePort, groupMembers, processesMatching, taggedProcesses, waitFor } from "../support/procs.ts";
import { FIXTURE, noDefaultServices, ownedServiceToml } from "../support/services.ts";

const MAIN = resolve(import.meta.dir, "../../src/main.ts");
// The tests run side by side (each has its own home, ports and tag), so what one started is
// killed at the end of the file, not after each test (which would hit its neighbours' daemons).
const started: Array<ReturnType<typeof Bun.spawn>> = [];
afterAll(() => {
  for (const p of started.splice(0)) if (p.exitCode === null) p.kill("SIGKILL");
});

function setup() {
  const home = mkdtempSync(join(tmpdir(), "atrad-serve-"));
  const tag = crypto.randomUUID();
  writeFileSync(
    join(home, "config.toml"),
    noDefaultServices() + ownedServiceToml("alpha", freePort(), tag, { GRANDCHILD: "1", LOG_HEALTH: "1" }) + ownedServiceToml("beta", freePort(), tag, { LOG_HEALTH: "1" }),
  );
  return { home, tag };
}

function serve(home: string) {
  const p = Bun.spawn([process.execPath, MAIN, "serve", "--port", "0"], {
    env: { ...process.env, ATRAD_HOME: home, ATRAD_CONFIG: "" },
    stdout: "ignore",
    stderr: "ignore",
  });
  started.push(p);
  return p;
}

let faulty: Faulty | undefined;
afterAll(() => faulty?.stop());

/** Status of the daemon with this pid, once its services are all up. */
async function allUp(home: string, pid: number, count = 2): Promise<StatusDocument> {
  return waitFor("daemon with all services up", async () => {
    const stateFile = join(home, "run", "atrad.json");
    // What is not there yet is thrown, so a timeout says what the daemon last reported.
    if (!existsSync(stateFile)) throw new Error("no run/atrad.json yet");
    const state = JSON.parse(readFileSync(stateFile, "utf8"));
    if (state.pid !== pid) throw new Error(`run/atrad.json names pid ${state.pid}, not ${pid}`);
    const doc = (await (await fetch(`${state.url}/atrad/status`)).json()) as StatusDocument;
    const ready = doc.services.length === count && doc.services.every((s) => s.state === "up") && doc.services.every((s) => s.pid);
    if (!ready) throw new Error(`services: ${doc.services.map((s) => `${s.name} ${s.state} pid ${s.pid ?? "-"}${s.note ? ` (${s.note})` : ""}`).join(", ")}`);
    return doc;
  }, 20_000, 100);
}

describe.concurrent("atrad serve and its children", () => {
  test("SIGTERM: every owned child (and grandchild) is gone and atrad exits under 20 s", async () => {
    const { home, tag } = setup();
    const atrad = serve(home);
    await allUp(home, atrad.pid);
    const before = processesMatching(tag);
    expect(before).toHaveLength(2);
    // Each child leads its own process group; alpha's also holds the grandchild `sleep` it started.
    const members = before.flatMap((p) => groupMembers(p.pid));
    expect(members.length).toBe(3);
    const t0 = performance.now();
    atrad.kill("SIGTERM");
    expect(await atrad.exited).toBe(0);
    expect(performance.now() - t0).toBeLessThan(20_000);
    expect(processesMatching(tag)).toEqual([]);
    // (zombies awaiting their reaper don't count: they hold no port and run nothing)
    for (const p of before) expect(groupMembers(p.pid)).toEqual([]);
    expect(JSON.parse(readFileSync(join(home, "run", "children.json"), "utf8"))).toEqual({});
    expect(existsSync(join(home, "run", "atrad.json"))).toBe(false);
  }, 30_000);

  test("kill -9 atrad, start it again: the orphans are adopted, not duplicated", async () => {
    const { home, tag } = setup();
    const first = serve(home);
    const doc1 = await allUp(home, first.pid);
    const pids1 = doc1.services.map((s) => s.pid).sort();
    first.kill("SIGKILL");
    await first.exited;
    expect(processesMatching(tag).map((p) => p.pid).sort()).toEqual(pids1 as number[]);

    const second = serve(home);
    const doc2 = await allUp(home, second.pid);
    expect(doc2.services.map((s) => s.pid).sort()).toEqual(pids1);
    expect(doc2.services.every((s) => s.restarts === 0)).toBe(true);
    // Three probe rounds of the second daemon later there are still exactly the two original children.
    const probed = () => ["alpha", "beta"].map((n) => readFileSync(join(home, "logs", `${n}.log`), "utf8").split("fixture: /health").length - 1);
    const before = probed();
    await waitFor("three more probes of each child", () => probed().every((n, i) => n >= before[i]! + 3));
    expect(processesMatching(tag).map((p) => p.pid).sort()).toEqual(pids1 as number[]);

    second.kill("SIGTERM");
    expect(await second.exited).toBe(0);
    expect(processesMatching(tag)).toEqual([]);
  }, 30_000);
});

/** A service whose tree is as hard to stop as it gets: TERM ignored, forked server, setsid escapee. */
function stubbornToml(name: string, port: number, tag: string, command?: string[], ignoreTerm = true) {
  const cmd = command ?? [process.execPath, FIXTURE, `--tag=${tag}`];
  return `[services.${name}]
health = "http://127.0.0.1:${port}/health"
expect = { status = ["healthy"] }
command = ${JSON.stringify(cmd)}
env = { PORT = "${port}", FIXTURE_TAG = "${tag}", SERVE_IN_CHILD = "1", SETSID_GRANDCHILD = "1", IGNORE_TERM = "${ignoreTerm ? 1 : 0}" }
interval_s = 0.1
timeout_s = 1
stop_timeout_s = 0.3
`;
}

describe.concurrent("atrad serve leaves no process behind", () => {
  test("SIGTERM with a stream in flight and a child ignoring TERM: nothing survives, exit under 20 s", async () => {
    faulty ??= startFaulty();
    faulty.slowDelayMs = 500; // 40 chunks: far longer than the drain grace
    const home = mkdtempSync(join(tmpdir(), "atrad-serve-"));
    const tag = crypto.randomUUID();
    writeFileSync(
      join(home, "config.toml"),
      `[server]\nshutdown_grace_s = 0.3\n[providers.f]\nkind = "openai"\nurl = "${faulty.url}"\nmodels = ["slow"]\n[routes]\ndefault = ["f/slow"]\n` +
        noDefaultServices() +
        stubbornToml("stubborn", freePort(), tag),
    );
    const atrad = serve(home);
    const doc = await allUp(home, atrad.pid, 1);
    await waitFor("whole tree running", () => taggedProcesses(tag).length >= 4);
    const res = await fetch(`${doc.daemon.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "f/slow", max_tokens: 64, stream: true, messages: [{ role: "user", content: "hi" }] }),
    });
    const events: string[] = [];
    const reading = (async () => {
      for await (const m of parseSse(res.body!)) events.push(m.event ?? "");
    })().catch(() => {});
    await waitFor("stream under way", () => events.includes("content_block_delta"));
    const t0 = performance.now();
    atrad.kill("SIGTERM");
    expect(await atrad.exited).toBe(0);
    expect(performance.now() - t0).toBeLessThan(20_000);
    await reading;
    expect(taggedProcesses(tag)).toEqual([]);
    expect(JSON.parse(readFileSync(join(home, "run", "children.json"), "utf8"))).toEqual({});
  }, 30_000);

  test("kill -9 atrad, start it again: an exec-wrapped child is adopted by pid + start time, then stopped with its tree", async () => {
    const home = mkdtempSync(join(tmpdir(), "atrad-serve-"));
    const tag = crypto.randomUUID();
    // The wrapper becomes the server under the same pid: its command line no longer matches.
    const wrapped = ["bash", "-c", `exec ${JSON.stringify(process.execPath)} ${JSON.stringify(FIXTURE)} --tag=${tag}`];
    writeFileSync(join(home, "config.toml"), noDefaultServices() + stubbornToml("wrapped", freePort(), tag, wrapped, false));
    const first = serve(home);
    const pid = (await allUp(home, first.pid, 1)).services[0]!.pid!;
    await waitFor("whole tree running", () => taggedProcesses(tag).length >= 4);
    first.kill("SIGKILL");
    await first.exited;
    const orphans = taggedProcesses(tag);
    expect(orphans).toContain(pid);

    const second = serve(home);
    const doc = await allUp(home, second.pid, 1);
    expect(doc.services[0]!.pid).toBe(pid);
    expect(doc.services[0]!.restarts).toBe(0);
    expect(doc.services[0]!.last_error).toBeNull();
    expect(taggedProcesses(tag)).toEqual(orphans);

    second.kill("SIGTERM");
    expect(await second.exited).toBe(0);
    expect(taggedProcesses(tag)).toEqual([]);
  }, 30_000);
});

describe.concurrent("one daemon per ATRAD_HOME", () => {
  test("a second serve on the same home is refused naming the running one (pid, port), and touches no child", async () => {
    const { home, tag } = setup();
    const first = serve(home);
    const doc = await allUp(home, first.pid);
    const children = processesMatching(tag).map((p) => p.pid).sort();
    const second = Bun.spawn([process.execPath, MAIN, "serve", "--port", "0"], {
      env: { ...process.env, ATRAD_HOME: home, ATRAD_CONFIG: "" },
      stdout: "ignore",
      stderr: "pipe",
    });
    started.push(second);
    expect(await second.exited).toBe(98);
    const err = await new Response(second.stderr).text();
    expect(err).toContain(`pid ${first.pid}`);
    expect(err).toContain(`port ${new URL(doc.daemon.url).port}`);
    expect(err).toContain("another atrad is already running");
    expect(processesMatching(tag).map((p) => p.pid).sort()).toEqual(children);
    // The first daemon still owns its children and its pidfile.
    const pidfile = JSON.parse(readFileSync(join(home, "run", "children.json"), "utf8"));
    expect(Object.values(pidfile).map((e) => (e as { pid: number }).pid).sort()).toEqual(doc.services.map((s) => s.pid!).sort());
    first.kill("SIGTERM");
    expect(await first.exited).toBe(0);
  }, 30_000);
});
