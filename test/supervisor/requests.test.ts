/** `atrad stop|start|restart NAME` as a user types it: the CLI process, the daemon's endpoint, a real child. */
import { afterEach, describe, expect, test } from "bun:test";
import { resolve } from "node:path";
import type { StatusDocument } from "../../src/observe/status-document.ts";
import { startTestDaemon, type TestDaemon } from "../support/daemon.ts";
import { freePort, taggedProcesses, waitFor } from "../support/procs.ts";
import { noDefaultServices, ownedServiceToml } from "../support/services.ts";

const MAIN = resolve(import.meta.dir, "../../src/main.ts");
let daemon: TestDaemon | undefined;
afterEach(async () => {
  await daemon?.stop();
  daemon = undefined;
});

async function cli(args: string[], home: string) {
  const p = Bun.spawn([process.execPath, MAIN, ...args], { env: { ...process.env, ATRAD_HOME: home, ATRAD_CONFIG: "" }, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { out, err, code };
}

const state = async (d: TestDaemon, name: string) => ((await (await fetch(`${d.url}/atrad/status`)).json()) as StatusDocument).services.find((s) => s.name === name)!;

describe("one service, by name", () => {
  test("stop NAME stops it and keeps it stopped; start NAME and restart NAME bring it back; unknown names are refused", async () => {
    const tag = crypto.randomUUID();
    daemon = await startTestDaemon(noDefaultServices("mlx") + ownedServiceToml("mlx", freePort(), tag, { FIXTURE_TAG: tag }));
    const d = daemon;
    const first = await waitFor("up", async () => (await state(d, "mlx")).state === "up" && (await state(d, "mlx")).pid);

    const stop = await cli(["stop", "mlx", "--url", d.url], d.home);
    expect(stop.code).toBe(0);
    expect(stop.out).toContain("service mlx: stop requested");
    await waitFor("stopped, nothing left", async () => (await state(d, "mlx")).state === "stopped" && taggedProcesses(tag).length === 0);

    expect((await cli(["start", "mlx", "--url", d.url], d.home)).code).toBe(0);
    const second = await waitFor("up again", async () => (await state(d, "mlx")).state === "up" && (await state(d, "mlx")).pid);
    expect(second).not.toBe(first);

    expect((await cli(["restart", "mlx", "--url", d.url], d.home)).code).toBe(0);
    await waitFor("a new process", async () => (await state(d, "mlx")).state === "up" && (await state(d, "mlx")).pid !== second);
    expect(taggedProcesses(tag)).toHaveLength(1);

    const unknown = await cli(["restart", "nope", "--url", d.url], d.home);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toContain('no service named "nope"');
  }, 20_000);

  test("with no daemon answering, NAME actions exit 3 saying so", async () => {
    const r = await cli(["restart", "mlx", "--url", `http://127.0.0.1:${freePort()}`], "/nonexistent-atrad-home");
    expect(r.code).toBe(3);
    expect(r.err).toContain("no daemon answers");
  });
});
