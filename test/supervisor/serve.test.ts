/**
 * A real `atrad serve` process with owned children: SIGTERM must leave none behind (checked in
 * the OS process table) and exit well inside launchd's 20 s; after `kill -9` the next atrad
 * adopts the orphans through the pidfile instead of starting duplicates.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { StatusDocument } from "../../src/daemon/status.ts";
import { freePort, groupMembers, processesMatching, waitFor } from "../support/procs.ts";
import { noDefaultServices, ownedServiceToml } from "../support/services.ts";

const MAIN = resolve(import.meta.dir, "../../src/main.ts");
const started: Array<ReturnType<typeof Bun.spawn>> = [];
afterEach(() => {
  for (const p of started.splice(0)) if (p.exitCode === null) p.kill("SIGKILL");
});

function setup() {
  const home = mkdtempSync(join(tmpdir(), "atrad-serve-"));
  const tag = crypto.randomUUID();
  writeFileSync(
    join(home, "config.toml"),
    noDefaultServices() + ownedServiceToml("alpha", freePort(), tag, { GRANDCHILD: "1" }) + ownedServiceToml("beta", freePort(), tag),
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

/** Status of the daemon with this pid, once its services are all up. */
async function allUp(home: string, pid: number): Promise<StatusDocument> {
  return waitFor("daemon with all services up", async () => {
    const stateFile = join(home, "run", "atrad.json");
    if (!existsSync(stateFile)) return false;
    const state = JSON.parse(readFileSync(stateFile, "utf8"));
    if (state.pid !== pid) return false;
    const doc = (await (await fetch(`${state.url}/atrad/status`)).json()) as StatusDocument;
    return doc.services.length === 2 && doc.services.every((s) => s.state === "up") && doc.services.every((s) => s.pid) && doc;
  }, 20_000, 100);
}

describe("atrad serve and its children", () => {
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
  });

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
    // A few probe rounds later there are still exactly the two original children.
    await Bun.sleep(500);
    expect(processesMatching(tag).map((p) => p.pid).sort()).toEqual(pids1 as number[]);

    second.kill("SIGTERM");
    expect(await second.exited).toBe(0);
    expect(processesMatching(tag)).toEqual([]);
  });
});
