/** Config snippets for supervisor tests: owned fixture services, and the default stack switched off. */
import { expect } from "bun:test";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Provider, Service } from "../../src/config/load.ts";
import { silentLogger } from "../../src/log.ts";
import { Supervisor, type SupervisorTiming } from "../../src/supervisor/supervisor.ts";
import { taggedProcesses, waitFor, type Cleanup } from "./procs.ts";

export const FIXTURE = resolve(import.meta.dir, "../fixtures/services/health-server.ts");
/** A server that is not the service: it holds a port (`bun FOREIGN <port>`) the way a stranger would. */
export const FOREIGN = resolve(import.meta.dir, "../fixtures/services/foreign-server.ts");

/** The default services probe real ports; tests turn them off (except those they redefine). */
export function noDefaultServices(...except: string[]): string {
  return ["ollama", "mlx", "victoria", "veronica", "knowledge_os"]
    .filter((n) => !except.includes(n))
    .map((n) => `[services.${n}]\nenabled = false\n`)
    .join("");
}

/** An owned service running the fixture server; `tag` marks its command line for the process table. */
export function ownedServiceToml(name: string, port: number, tag: string, env: Record<string, string> = {}): string {
  const envToml = Object.entries({ PORT: String(port), ...env }).map(([k, v]) => `${k} = ${JSON.stringify(v)}`).join(", ");
  return `[services.${name}]
health = "http://127.0.0.1:${port}/health"
expect = { status = ["healthy"] }
command = [${JSON.stringify(process.execPath)}, ${JSON.stringify(FIXTURE)}, "--tag=${tag}"]
env = { ${envToml} }
interval_s = 0.1
timeout_s = 1
`;
}

/**
 * An owned service running the fixture server. FIXTURE_TAG=`tag` is inherited by its whole
 * tree, so test/support/procs.ts taggedProcesses finds every process of it, escapees included.
 */
export function ownedService(name: string, port: number, tag: string, env: Record<string, string> = {}, extra: Partial<Service> = {}): Service {
  return {
    name,
    port,
    health: `http://127.0.0.1:${port}/health`,
    expect: { status: ["healthy"] },
    command: [process.execPath, FIXTURE, `--tag=${tag}`],
    env: { PORT: String(port), FIXTURE_TAG: tag, ...env },
    interval_s: 0.1,
    timeout_s: 1,
    ...extra,
  };
}

/** A supervisor in a temp home; `cleanup` gets its stop(). */
export function startSupervisor(cleanup: Cleanup, services: Service[], timing: SupervisorTiming, providers: Provider[] = []) {
  const home = mkdtempSync(join(tmpdir(), "atrad-sup-"));
  const sup = new Supervisor(services, providers, { home, logger: silentLogger, timing });
  cleanup.push(() => sup.stop());
  return { sup, home, ready: sup.start() };
}

/** A supervised service's status row, by name. */
export const statusOf = (sup: Supervisor, name: string) => sup.status().find((s) => s.name === name)!;

/**
 * A stranger holds an owned service's port: none of the service's processes runs meanwhile
 * (none spawned into EADDRINUSE), and once the stranger is killed the service comes up, once.
 */
export async function upOnceThePortIsFree(sup: Supervisor, name: string, tag: string, stranger: { kill(signal: NodeJS.Signals): void }): Promise<void> {
  expect(taggedProcesses(tag)).toEqual([]);
  stranger.kill("SIGKILL");
  await waitFor(`${name} up once the port is free`, () => statusOf(sup, name).state === "up");
  expect(taggedProcesses(tag)).toHaveLength(1);
}
