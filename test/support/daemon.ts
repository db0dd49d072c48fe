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

/** A backend that is down: nothing listens on port 9 (discard) on loopback. */
export const NOWHERE = "http://127.0.0.1:9";

/** One provider table: `name`, of `kind`, at `url`, with `extra` keys (TOML lines). */
export function providerToml(name: string, kind: string, url: string, extra = ""): string {
  return `[providers.${name}]\nkind = "${kind}"\nurl = "${url}"\n${extra}\n`;
}
