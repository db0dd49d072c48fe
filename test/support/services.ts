/** Config snippets for supervisor tests: owned fixture services, and the default stack switched off. */
import { resolve } from "node:path";

export const FIXTURE = resolve(import.meta.dir, "../fixtures/services/health-server.ts");

/** The default services (DESIGN §3) probe real ports; tests turn them off (except those they redefine). */
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
