/**
 * `atrad install | uninstall | start | stop | restart`: plan (pure, src/platform) then run.
 * `--dry-run` prints the rendered plist/unit and every step and runs nothing. Each command's
 * options are declared in commands.ts.
 */
import { existsSync, readFileSync, realpathSync } from "node:fs";
import { join } from "node:path";
import { loadConfig } from "../config/load.ts";
import { VERSION } from "../version.ts";
import { brewHasOllama, brewPrefix, detectManager, isCompiled, parsePlatform, selfCommand } from "../platform/detect.ts";
import { probeHealth } from "../platform/health.ts";
import { LABEL, UNIT, layoutFor, type Layout } from "../platform/layout.ts";
import { describeStep, type Plan } from "../platform/plan.ts";
import { readPid } from "../platform/pidfile.ts";
import { runCommand, runPlan, PlanError } from "../platform/runner.ts";
import { planFor, type Operation } from "../platform/service.ts";
import type { Values } from "./command.ts";
import type { serviceOptions } from "./commands.ts";
import type { CliIO } from "./io.ts";
import { daemonClient } from "./client.ts";
import { readDaemonState } from "../daemon/state.ts";

/** Each service command takes a subset of these (commands.ts); absent ones are off. */
type ServiceValues = Partial<Values<typeof serviceOptions>>;

/** Where install recorded what it did, so uninstall/start find the same binary later. */
const recordPath = (l: Layout) => join(l.atradHome, "install.json");

export interface ServiceContext {
  layout: Layout;
  dryRun: boolean;
  ollamaUrl: string;
}

/** Shared by launch/doctor: where the service is (or would be) and how to reach the daemon. */
export async function serviceContext(
  io: CliIO,
  values: { platform?: string; prefix?: string; "dry-run"?: boolean } = {},
): Promise<ServiceContext> {
  const platform = parsePlatform(values.platform);
  const dryRun = values["dry-run"] ?? false;
  const manager = await detectManager(io.env, platform, dryRun && values.platform ? platform : undefined);
  const config = loadConfig({ env: io.env });
  const probe = layoutFor({ env: io.env, platform, manager, port: config.server.port });
  const recorded = readRecord(recordPath(probe));
  // --prefix wins; then where the last install put atrad; then Homebrew's prefix; then ~/.local.
  const prefix = values.prefix ?? (recorded ? join(recorded, "..", "..") : await brewPrefix(io.env));
  const layout = layoutFor({ env: io.env, platform, manager, prefix, port: config.server.port });
  const ollama = config.providers.find((p) => p.name === "ollama");
  return { layout, dryRun, ollamaUrl: ollama?.urls[0] ?? "http://127.0.0.1:11434" };
}

function isSameFile(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return false;
  }
}

function readRecord(path: string): string | undefined {
  try {
    const bin = JSON.parse(readFileSync(path, "utf8")).bin;
    return typeof bin === "string" ? bin : undefined;
  } catch {
    return undefined;
  }
}

function printDryRun(op: Operation, l: Layout, plan: Plan, io: CliIO) {
  io.out(`# atrad ${op} --dry-run: ${l.platform} (${l.manager === "none" ? "no service manager: background process" : l.manager}); nothing was run\n`);
  for (const step of plan)
    if (step.op === "write" && step.path !== recordPath(l)) io.out(`==> ${step.path} (mode ${step.mode.toString(8)})\n${step.content}`);
  io.out(`==> steps\n${plan.map((s) => `${describeStep(s)}\n`).join("")}`);
}

function managerName(l: Layout): string {
  if (l.manager === "launchd") return `launchd job ${LABEL}`;
  if (l.manager === "systemd") return `systemd --user unit ${UNIT}`;
  return "background process";
}

export async function serviceCommand(op: Operation, { values, args }: { values: ServiceValues & { url?: string }; args?: string[] }, io: CliIO): Promise<number> {
  const name = args?.[0];
  if (name && (op === "start" || op === "stop" || op === "restart")) return serviceAction(op, name, values.url, io);
  const ctx = await serviceContext(io, values);
  const l = ctx.layout;
  const log = (line: string) => io.out(`  ${line}\n`);

  if (op !== "install" && l.manager !== "none" && !ctx.dryRun && !existsSync(l.serviceFile!) && op !== "uninstall") {
    io.err(`atrad ${op}: not installed as a login service (${l.serviceFile} is missing). Fix: atrad install\n`);
    return 1;
  }

  let binary: string | undefined;
  const plan: Plan = [];
  if (op === "install") {
    binary = values.binary ?? (isCompiled() ? process.execPath : undefined);
    if (!binary) {
      if (!ctx.dryRun) {
        io.err("atrad install: this atrad runs from source; build it first (bun run build) and run dist/atrad install, or pass --binary PATH\n");
        return 1;
      }
      binary = "<this atrad executable>";
    }
    plan.push(...(await ollamaSteps(ctx, values["with-ollama"] ?? false, io)));
  }
  // The installed atrad installing itself again: there is nothing to copy, so none is planned
  // (the runner would skip it, but --dry-run would show copying the binary onto itself).
  if (binary && isSameFile(binary, l.bin)) binary = undefined;
  plan.push(...planFor(op, l, { binary, purge: values.purge, self: existsSync(l.bin) ? undefined : selfCommand() }));
  if (op === "install")
    plan.splice(plan.length - 1, 0, { op: "write", path: recordPath(l), content: JSON.stringify({ bin: l.bin, manager: l.manager, version: VERSION }) + "\n", mode: 0o644 });
  if (op === "uninstall" && !values.purge) plan.push({ op: "remove", path: recordPath(l) });
  // Installing this very atrad: the daemon that answers must also be this version.
  if (op === "install" && !values.binary)
    for (const step of plan) if (step.op === "wait-health" && step.expect) step.expect.version = VERSION;

  if (ctx.dryRun) {
    printDryRun(op, l, plan, io);
    return 0;
  }
  try {
    await runPlan(plan, { env: io.env, log });
  } catch (err) {
    if (err instanceof PlanError) {
      io.err(`atrad ${op}: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  await report(op, l, io, Boolean(values.purge));
  return 0;
}

/** `atrad start|stop|restart NAME`: ask the running daemon to act on one supervised service. */
async function serviceAction(action: "start" | "stop" | "restart", name: string, urlOption: string | undefined, io: CliIO): Promise<number> {
  let stateUrl: string | undefined;
  try {
    stateUrl = readDaemonState(loadConfig({ env: io.env }).home)?.url;
  } catch {
    // a broken config: the client falls back to the default address
  }
  const { url, headers } = daemonClient(io.env, urlOption ?? stateUrl);
  let res: Response;
  try {
    res = await fetch(`${url}/atrad/services/${encodeURIComponent(name)}/${action}`, { method: "POST", headers, signal: AbortSignal.timeout(10_000) });
  } catch {
    io.err(`atrad ${action} ${name}: no daemon answers at ${url} (start it with \`atrad start\`)\n`);
    return 3;
  }
  const body = (await res.json().catch(() => ({}))) as { service?: { state: string; last_error: string | null }; error?: { message?: string } };
  if (!res.ok || !body.service) {
    io.err(`atrad ${action} ${name}: ${body.error?.message ?? `HTTP ${res.status}`}\n`);
    return 1;
  }
  const s = body.service;
  io.out(`service ${name}: ${action} requested; now ${s.state}${s.last_error ? ` (${s.last_error})` : ""}\n`);
  return 0;
}

/** Brew-installed Ollama that isn't running: say so, and start it with --with-ollama. */
async function ollamaSteps(ctx: ServiceContext, withOllama: boolean, io: CliIO): Promise<Plan> {
  if (!(await brewHasOllama(io.env))) {
    if (withOllama) io.out("note: --with-ollama: Ollama is not a Homebrew formula here; start it your own way\n");
    return [];
  }
  const up = await fetch(`${ctx.ollamaUrl}/api/version`, { signal: AbortSignal.timeout(1500) }).then((r) => r.ok, () => false);
  if (up) return [];
  if (withOllama) return [{ op: "run", argv: ["brew", "services", "start", "ollama"] }];
  io.out(`note: Ollama is installed with Homebrew but not answering at ${ctx.ollamaUrl}. Fix: atrad install --with-ollama (runs brew services start ollama)\n`);
  return [];
}

async function report(op: Operation, l: Layout, io: CliIO, purged: boolean) {
  if (op === "stop") return io.out(`atrad stopped (${managerName(l)})\n`);
  if (op === "uninstall")
    return io.out(`atrad uninstalled${purged ? " with its config, state and logs" : `; config and logs kept in ${l.atradHome} and ${l.logDir} (--purge removes them)`}\n`);
  const health = await probeHealth(l.url);
  const version = health.state === "atrad" ? health.version : "?";
  const pid = l.manager === "none" ? ` pid ${readPid(l.pidFile)},` : "";
  io.out(`atrad ${version} is up at ${l.url} (${managerName(l)},${pid} log ${l.manager === "systemd" ? `journalctl --user -u ${UNIT}` : l.logFile})\n`);
  if (op !== "install") return;
  if (l.manager === "none") io.out("note: no service manager here (container/CI): atrad will not start at login; `atrad start` brings it back\n");
  if (l.manager === "systemd") {
    const user = io.env.USER ?? io.env.LOGNAME ?? "";
    const linger = await runCommand(["loginctl", "show-user", user, "--property=Linger"], io.env, 5000);
    if (!linger.stdout.includes("Linger=yes"))
      io.out(`note: systemd stops user services when you log out; to keep atrad running: loginctl enable-linger ${user}\n`);
  }
  if (!(io.env.PATH ?? "").split(":").includes(l.binDir)) io.out(`note: add ${l.binDir} to your PATH to run atrad\n`);
}
