/**
 * The trust boundary cannot be weakened by a reload or a flag: a config file that goes missing,
 * empty or invalid never replaces the running one (status says why); a reload that would leave
 * a non-loopback bind without tokens is rejected; the Host guard judges the address actually
 * bound (`--host 127.0.0.1` over a file's `0.0.0.0`); URL passwords are masked in the status
 * document, the status page's data, `atrad status --json`, `atrad config print` and the log.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../../src/cli/index.ts";
import type { CliIO } from "../../src/cli/io.ts";
import { loadConfig } from "../../src/config/load.ts";
import { startDaemon, type Daemon } from "../../src/daemon/daemon.ts";
import { createLogger, silentLogger } from "../../src/log.ts";
import { statusDocumentError } from "../../src/observe/status-document.ts";
import { freePort, ROOT, waitForHealth } from "../support/binary.ts";
import { noDefaultServices } from "../support/services.ts";

const TOKEN = "trust-boundary-token-5d1e";
const running: Daemon[] = [];
afterEach(async () => {
  for (const d of running.splice(0)) await d.stop();
});

function home() {
  const dir = mkdtempSync(join(tmpdir(), "atrad-trust-"));
  const env = { ATRAD_HOME: dir, HOME: dir };
  return { dir, env, file: join(dir, "config.toml") };
}

const tokensToml = (host = "127.0.0.1") => `[server]\nhost = "${host}"\nauth_tokens = ["${TOKEN}"]\n${noDefaultServices()}`;

/** A daemon the way `atrad serve` (no --config) runs one: the default path, re-read on reload. */
async function serve(h: ReturnType<typeof home>, opts: { host?: string; lines?: string[] } = {}) {
  const load = () => loadConfig({ env: h.env });
  const logger = opts.lines ? createLogger("info", (l) => opts.lines!.push(l)) : silentLogger;
  const d = await startDaemon({ config: load(), host: opts.host ?? "127.0.0.1", port: 0, logger, load, supervisor: false });
  running.push(d);
  return d;
}

const port = (d: Daemon) => Number(new URL(d.url).port);
const askNoToken = (d: Daemon) => fetch(`http://127.0.0.1:${port(d)}/v1/models`).then((r) => r.status);

/** One raw HTTP/1.1 exchange, for a Host header fetch will not send as given. */
async function rawStatus(p: number, host: string): Promise<number> {
  let out = "";
  let done!: () => void;
  const closed = new Promise<void>((r) => (done = r));
  const sock = await Bun.connect({ hostname: "127.0.0.1", port: p, socket: { data(_s, d) { out += d.toString(); }, close() { done(); }, error() { done(); } } });
  sock.write(`GET /v1/models HTTP/1.1\r\nHost: ${host}\r\nx-api-key: ${TOKEN}\r\nConnection: close\r\n\r\n`);
  await Promise.race([closed, Bun.sleep(3000)]);
  sock.end();
  return Number(/^HTTP\/1\.1 (\d+)/.exec(out)?.[1] ?? 0);
}

describe("a reload never replaces the running config with a missing, empty or broken one", () => {
  const breakages: Array<[string, (file: string) => void, RegExp]> = [
    ["emptied", (f) => writeFileSync(f, ""), /is empty/],
    ["only comments left", (f) => writeFileSync(f, "# [server]\n#auth_tokens = []\n\n"), /is empty/],
    ["deleted", (f) => rmSync(f), /is missing/],
    ["invalid TOML", (f) => writeFileSync(f, "[server\nauth_tokens = "), /TOML syntax/],
    ["fails the schema", (f) => writeFileSync(f, "[server]\nport = \"eighty\"\n"), /server\.port/],
  ];
  for (const [name, breakIt, why] of breakages) {
    test(`${name}: still 401 without a token, and status says why`, async () => {
      const h = home();
      writeFileSync(h.file, tokensToml());
      const d = await serve(h);
      expect(await askNoToken(d)).toBe(401);
      breakIt(h.file);
      const r = d.reload();
      expect(r.ok).toBe(false);
      expect(r.error).toMatch(why);
      expect(await askNoToken(d)).toBe(401);
      const status: any = await (await fetch(`${d.url}/atrad/status`, { headers: { "x-api-key": TOKEN } })).json();
      expect(status.config.error).toMatch(why);
      expect(new Date(status.config.rejected_at).toISOString()).toBe(status.config.rejected_at);
      expect(statusDocumentError(status)).toBeUndefined();
      // Writing a good file back is taken, and clears the error.
      writeFileSync(h.file, tokensToml());
      expect(d.reload()).toMatchObject({ ok: true });
      expect(d.configState).toMatchObject({ error: null, rejected_at: null });
    });
  }

  test("the file watcher takes the same path: an editor truncating the file changes nothing", async () => {
    const h = home();
    writeFileSync(h.file, tokensToml());
    const load = () => loadConfig({ env: h.env });
    const d = await startDaemon({ config: load(), host: "127.0.0.1", port: 0, logger: silentLogger, load, supervisor: false, watch: true });
    running.push(d);
    writeFileSync(h.file, "");
    for (let i = 0; i < 100 && !d.configState.error; i++) await Bun.sleep(50);
    expect(d.configState.error).toMatch(/is empty/);
    expect(await askNoToken(d)).toBe(401);
  });

  test("dropping the tokens on a loopback bind is the user's call: the reload is taken", async () => {
    const h = home();
    writeFileSync(h.file, tokensToml());
    const d = await serve(h);
    writeFileSync(h.file, `[server]\nhost = "127.0.0.1"\n${noDefaultServices()}`);
    expect(d.reload()).toMatchObject({ ok: true });
    expect(await askNoToken(d)).toBe(200);
  });
});

describe("a reload that would open a non-loopback bind is rejected", () => {
  // Bound to 0.0.0.0 with tokens; each new file drops them. A file moving host to loopback does
  // not lift the check either: a reload cannot rebind, so the bind is still 0.0.0.0.
  for (const newHost of ["0.0.0.0", "127.0.0.1"]) {
    test(`new file with host = "${newHost}" and no tokens → rejected, still 401`, async () => {
      const h = home();
      writeFileSync(h.file, tokensToml("0.0.0.0"));
      const d = await serve(h, { host: "0.0.0.0" });
      expect(await askNoToken(d)).toBe(401);
      writeFileSync(h.file, `[server]\nhost = "${newHost}"\n${noDefaultServices()}`);
      const r = d.reload();
      expect(r.ok).toBe(false);
      expect(r.error).toMatch(/listening on 0\.0\.0\.0.*no server\.auth_tokens/);
      expect(await askNoToken(d)).toBe(401);
    });
  }
});

describe("the Host guard judges the address actually bound", () => {
  test("--host 127.0.0.1 over a file's 0.0.0.0: Host evil.com → 403, before and after a reload", async () => {
    const h = home();
    writeFileSync(h.file, tokensToml("0.0.0.0"));
    const d = await serve(h, { host: "127.0.0.1" });
    expect(await rawStatus(port(d), "evil.com")).toBe(403);
    expect(await rawStatus(port(d), `127.0.0.1:${port(d)}`)).toBe(200);
    expect(d.reload().ok).toBe(true);
    expect(await rawStatus(port(d), "evil.com")).toBe(403);
  });

  test("the same through a real `atrad serve --host 127.0.0.1` over a file's 0.0.0.0 without tokens", async () => {
    const h = home();
    const p = freePort();
    // What the refusal message suggests for this file: serve it on loopback with --host.
    writeFileSync(h.file, `[server]\nhost = "0.0.0.0"\nport = ${p}\n${noDefaultServices()}`);
    const proc = Bun.spawn([process.execPath, join(ROOT, "src/main.ts"), "serve", "--host", "127.0.0.1", "--config", h.file], { env: { ...process.env, ...h.env }, stdout: "ignore", stderr: "ignore" });
    try {
      await waitForHealth(`http://127.0.0.1:${p}`);
      expect(await rawStatus(p, "evil.com")).toBe(403);
      expect(await rawStatus(p, `localhost:${p}`)).toBe(200);
    } finally {
      proc.kill("SIGKILL");
    }
  }, 20_000);

  test("actually bound to 0.0.0.0 (with tokens), names are the operator's: evil.com passes the Host check", async () => {
    const h = home();
    writeFileSync(h.file, tokensToml("0.0.0.0"));
    const d = await serve(h, { host: "0.0.0.0" });
    expect(await rawStatus(port(d), "evil.com")).toBe(200);
  });
});

describe("URL passwords are masked wherever config or status is shown", () => {
  const SECRET = "PaSsW0rd-in-url";
  const configWithSecret = (h: ReturnType<typeof home>) =>
    writeFileSync(
      h.file,
      `[providers.remote]\nkind = "openai"\nurl = "http://alice:${SECRET}@127.0.0.1:9"\nmodels = ["m"]\n` +
        `[services.remote]\nhealth = "http://bob:${SECRET}@127.0.0.1:9/health"\nprovider = "remote"\n` +
        `[routes]\ndefault = ["remote/m"]\n${noDefaultServices()}`,
    );
  const io = (env: Record<string, string>) => {
    const o = { stdout: "", stderr: "", env, isTTY: false, out: (t: string) => void (o.stdout += t), err: (t: string) => void (o.stderr += t) };
    return o as CliIO & { stdout: string; stderr: string };
  };

  test("/atrad/status, the status page's data, and the log", async () => {
    const h = home();
    configWithSecret(h);
    const lines: string[] = [];
    const d = await serve(h, { lines });
    for (const path of ["/atrad/status", "/atrad/ui/state"]) {
      const text = await (await fetch(`${d.url}${path}`)).text();
      expect(text).toContain("alice:***@127.0.0.1:9");
      expect(text).not.toContain(SECRET);
    }
    // A rejected reload quotes the URL; the status and the log show it masked.
    writeFileSync(h.file, `[providers.remote]\nkind = "openai"\nurl = "ftp://alice:${SECRET}@h"\n${noDefaultServices()}`);
    expect(d.reload().error).toContain("ftp://alice:***@h");
    expect(await (await fetch(`${d.url}/atrad/status`)).text()).not.toContain(SECRET);
    expect(lines.join("")).toContain("alice:***@");
    expect(lines.join("")).not.toContain(SECRET);
  });

  test("atrad status --json, with the daemon up and with it down", async () => {
    const h = home();
    configWithSecret(h);
    const d = await serve(h);
    const up = io(h.env);
    expect(await runCli(["status", "--json"], up)).toBe(0);
    expect(up.stdout).toContain("alice:***@");
    expect(up.stdout).not.toContain(SECRET);
    await d.stop();
    running.splice(0);
    // On a port of its own: an atrad this machine runs on the default 8040 is not this one.
    const down = io({ ...h.env, ATRAD_PORT: String(freePort()) });
    await runCli(["status", "--json"], down);
    expect(JSON.parse(down.stdout).daemon.running).toBe(false);
    expect(down.stdout).toContain("alice:***@");
    expect(down.stdout + down.stderr).not.toContain(SECRET);
  });

  test("atrad config print", async () => {
    const h = home();
    configWithSecret(h);
    const out = io(h.env);
    expect(await runCli(["config", "print"], out)).toBe(0);
    expect(out.stdout).toContain("alice:***@127.0.0.1:9");
    expect(out.stdout).toContain("bob:***@127.0.0.1:9");
    expect(out.stdout).not.toContain(SECRET);
  });
});
