/**
 * Hot reload and supervised services: an owned service whose definition did not change keeps
 * running untouched (same pid) while routes change; a changed one is restarted; a removed one
 * is stopped — all checked against the OS process table.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../src/config/load.ts";
import { startDaemon, type Daemon } from "../../src/daemon/daemon.ts";
import { silentLogger } from "../../src/log.ts";
import { freePort, processesMatching, waitFor } from "../support/procs.ts";
import { noDefaultServices, ownedServiceToml } from "../support/services.ts";

const home = mkdtempSync(join(tmpdir(), "atrad-reload-svc-"));
const file = join(home, "config.toml");
const env = { ATRAD_HOME: home, HOME: home };
const [keepTag, changeTag, dropTag] = [crypto.randomUUID(), crypto.randomUUID(), crypto.randomUUID()];
const [keepPort, changePort, dropPort] = [freePort(), freePort(), freePort()];
let atrad: Daemon;

const config = (opts: { route: string; changed: boolean; drop: boolean }) =>
  [
    noDefaultServices(),
    `[providers.local]\nkind = "anthropic"\nurl = "http://127.0.0.1:9"\n[routes]\ndefault = ["${opts.route}"]\n`,
    ownedServiceToml("keep", keepPort, keepTag),
    ownedServiceToml("change", changePort, changeTag, opts.changed ? { VERSION_MARK: "2" } : {}),
    opts.drop ? "" : ownedServiceToml("drop", dropPort, dropTag),
  ].join("\n");

const pidOf = (name: string) => atrad.supervisor!.status().find((s) => s.name === name)?.pid;
const up = (name: string) => atrad.supervisor!.status().find((s) => s.name === name)?.state === "up";

beforeAll(async () => {
  writeFileSync(file, config({ route: "local/a", changed: false, drop: false }));
  const load = () => loadConfig({ env, file });
  atrad = await startDaemon({ config: load(), host: "127.0.0.1", port: 0, logger: silentLogger, load, supervisor: { intervalMs: 100, graceMs: 1000 } });
  await waitFor("all up", () => up("keep") && up("change") && up("drop"), 20_000);
});
afterAll(async () => {
  await atrad.stop();
});

test("unchanged service keeps its pid; changed restarts; removed stops; routes apply", async () => {
  const keepPid = pidOf("keep")!;
  const changePid = pidOf("change")!;
  const dropPid = pidOf("drop")!;
  writeFileSync(file, config({ route: "local/b", changed: true, drop: true }));
  expect(atrad.reload()).toMatchObject({ ok: true, changed: true });

  await waitFor("changed service back up with a new pid", () => up("change") && pidOf("change") !== changePid, 20_000);
  await waitFor("dropped service gone", () => processesMatching(dropTag).length === 0, 20_000);
  expect(pidOf("keep")).toBe(keepPid);
  expect(processesMatching(keepTag).map((p) => p.pid)).toEqual([keepPid]);
  expect(processesMatching(changeTag).map((p) => p.pid)).toEqual([pidOf("change")!]);
  expect(atrad.supervisor!.status().map((s) => s.name)).toEqual(["keep", "change"]);
  expect(dropPid).toBeGreaterThan(0);
  expect(atrad.config.routes.default).toEqual(["local/b"]);
}, 60_000);
