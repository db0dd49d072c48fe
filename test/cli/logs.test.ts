/** `atrad logs`: the request log, the list of logs, and a service that has not logged yet. */
import { describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../../src/cli/index.ts";
import type { CliIO } from "../../src/cli/io.ts";
import { noDefaultServices } from "../support/services.ts";

function box(config = noDefaultServices("mlx") + '[services.svc]\ncommand = ["sleep", "1"]\nport = 1\n') {
  const home = mkdtempSync(join(tmpdir(), "atrad-logs-"));
  mkdirSync(join(home, "logs"));
  writeFileSync(join(home, "config.toml"), config);
  return home;
}

async function logs(home: string, ...argv: string[]) {
  const io = { stdout: "", stderr: "", env: { ATRAD_HOME: home }, isTTY: false, out: (t: string) => void (io.stdout += t), err: (t: string) => void (io.stderr += t) };
  const code = await runCli(["logs", ...argv], io as CliIO);
  return { code, out: io.stdout, err: io.stderr };
}

describe("atrad logs", () => {
  test("requests: the request log, one JSON line per request", async () => {
    const home = box();
    const records = [1, 2, 3].map((i) => JSON.stringify({ request_id: `req_${i}`, model: "m", status: 200 }));
    writeFileSync(join(home, "logs", "requests.jsonl"), records.join("\n") + "\n");
    const r = await logs(home, "requests", "-n", "2");
    expect(r).toEqual({ code: 0, out: records.slice(1).join("\n") + "\n", err: "" });
  });

  test("--list: the daemon's log, the request log and each service atrad starts, with paths", async () => {
    const home = box();
    writeFileSync(join(home, "logs", "atrad.log"), "x\n");
    writeFileSync(join(home, "logs", "old.log"), "y\n");
    const r = await logs(home, "--list");
    expect(r.code).toBe(0);
    const names = r.out.split("\n").filter(Boolean).map((l) => l.trim().split(/\s+/)[0]);
    expect(names).toEqual(["atrad", "requests", "mlx", "svc", "old"]);
    expect(r.out).toMatch(/^  mlx +\(none\): service mlx is only watched/m);
    expect(r.out).toContain(`${join(home, "logs", "requests.jsonl")}  (nothing written yet): one JSON line per request`);
    expect(r.out).toContain(join(home, "logs", "svc.log"));
  });

  test("a service that has not logged yet: says so, and where its log will be", async () => {
    const home = box();
    const r = await logs(home, "svc");
    expect(r.code).toBe(1);
    expect(r.err).toContain(`svc has not logged yet; its log (output of service svc, which atrad starts) will be ${join(home, "logs", "svc.log")}`);
    expect(r.err).toContain("atrad logs -f svc");
  });

  test("a service atrad only watches: says atrad keeps no log of it", async () => {
    const r = await logs(box(), "mlx");
    expect(r.code).toBe(1);
    expect(r.err).toContain("service mlx is only watched (it has no command), so atrad keeps no log of it");
  });

  test("a name that is no log: the list of what there is", async () => {
    const home = box();
    const r = await logs(home, "nope");
    expect(r.code).toBe(1);
    expect(r.err).toContain('there is no log named "nope"');
    expect(r.err).toMatch(/^  requests /m);
  });
});
