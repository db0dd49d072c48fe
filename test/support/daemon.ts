/** Start a real daemon on an ephemeral loopback port with a config given inline. */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseConfigText, resolveConfig, type Config } from "../../src/config/load.ts";
import { startDaemon, type Daemon } from "../../src/daemon/daemon.ts";
import type { RequestRecord } from "../../src/gateway/record.ts";
import { silentLogger } from "../../src/log.ts";

export interface TestDaemon extends Daemon {
  records: RequestRecord[];
  home: string;
}

export function testConfig(toml: string, env: Record<string, string> = {}): Config {
  const home = mkdtempSync(join(tmpdir(), "atrad-test-"));
  return resolveConfig(parseConfigText(toml), { env: { ATRAD_HOME: home, HOME: home, ...env }, file: join(home, "config.toml") });
}

export async function startTestDaemon(toml: string, env: Record<string, string> = {}): Promise<TestDaemon> {
  const config = testConfig(toml, env);
  const records: RequestRecord[] = [];
  const daemon = await startDaemon({ config, host: "127.0.0.1", port: 0, logger: silentLogger, observe: (r) => records.push(r) });
  return Object.assign(daemon, { records, home: config.home });
}

/** Config TOML that points the default stack's providers at nothing unless given. */
export function providerToml(name: string, kind: string, url: string, extra = ""): string {
  return `[providers.${name}]\nkind = "${kind}"\nurl = "${url}"\n${extra}\n`;
}
