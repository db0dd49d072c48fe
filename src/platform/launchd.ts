/**
 * macOS: the LaunchAgent plist (rendered from launchd/com.atra.atrad.plist, embedded in the
 * binary at build time) and the launchctl verbs for each operation. Modern verbs only
 * (bootstrap/bootout/enable/kickstart in the gui/$UID domain); `load`/`unload` are deprecated
 * and report success on failure.
 */
import template from "../../launchd/com.atra.atrad.plist" with { type: "text" };
import { LABEL, serviceEnv, type Layout } from "./layout.ts";
import type { Plan } from "./plan.ts";

const xml = (s: string) => s.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;").replaceAll('"', "&quot;");

export function renderPlist(layout: Layout): string {
  const env = Object.entries(serviceEnv(layout))
    .map(([k, v]) => `    <key>${xml(k)}</key>\n    <string>${xml(v)}</string>`)
    .join("\n");
  const values: Record<string, string> = {
    "@LABEL@": xml(LABEL),
    "@BIN@": xml(layout.bin),
    "@ATRAD_HOME@": xml(layout.atradHome),
    "@LOG_FILE@": xml(layout.logFile),
    "@ENVIRONMENT@": env,
  };
  // One pass, so a value that happens to contain "@BIN@" is never substituted again.
  return template.replace(/@[A-Z_]+@/g, (m) => values[m] ?? m);
}

const domain = (l: Layout) => `gui/${l.uid}`;
const target = (l: Layout) => `${domain(l)}/${LABEL}`;
/** `launchctl print` exits 0 only when the job is loaded in the domain. */
const loaded = (l: Layout) => ["launchctl", "print", target(l)];

function waitHealth(l: Layout): Plan {
  return [{ op: "wait-health", url: l.url, timeoutMs: 20_000, expect: { pid: { from: "launchd" as const, target: target(l) }, log: l.logFile }, hint: `see ${l.logFile}` }];
}

/** Fresh install and upgrade alike: bootout the old job (if any) so the new plist/binary load. */
export function launchdInstall(l: Layout, binary: string | undefined): Plan {
  return [
    { op: "mkdir", path: l.binDir },
    ...(binary ? [{ op: "copy" as const, from: binary, to: l.bin, mode: 0o755 }] : []),
    { op: "mkdir", path: l.atradHome },
    { op: "mkdir", path: l.logDir },
    { op: "mkdir", path: dirOf(l.serviceFile!) },
    { op: "write", path: l.serviceFile!, content: renderPlist(l), mode: 0o644 },
    { op: "run", argv: ["launchctl", "bootout", target(l)], onlyIf: loaded(l) },
    { op: "run", argv: ["launchctl", "enable", target(l)] },
    // Bootout returns before the job is fully gone; bootstrap then fails with "5: Input/output
    // error" for a moment. Retrying is what launchctl's own users do.
    { op: "run", argv: ["launchctl", "bootstrap", domain(l), l.serviceFile!], retries: 5 },
    ...waitHealth(l),
  ];
}

export function launchdUninstall(l: Layout): Plan {
  return [
    { op: "run", argv: ["launchctl", "bootout", target(l)], onlyIf: loaded(l) },
    { op: "remove", path: l.serviceFile! },
    { op: "remove", path: l.bin },
  ];
}

export function launchdStart(l: Layout): Plan {
  return [
    { op: "run", argv: ["launchctl", "enable", target(l)] },
    { op: "run", argv: ["launchctl", "bootstrap", domain(l), l.serviceFile!], unless: loaded(l), retries: 5 },
    ...waitHealth(l),
  ];
}

/** Stop until the next login (or `atrad start`): bootout, since KeepAlive revives a killed job. */
export function launchdStop(l: Layout): Plan {
  return [{ op: "run", argv: ["launchctl", "bootout", target(l)], onlyIf: loaded(l) }];
}

export function launchdRestart(l: Layout): Plan {
  return [
    { op: "run", argv: ["launchctl", "kickstart", "-k", target(l)], onlyIf: loaded(l) },
    { op: "run", argv: ["launchctl", "enable", target(l)] },
    { op: "run", argv: ["launchctl", "bootstrap", domain(l), l.serviceFile!], unless: loaded(l), retries: 5 },
    ...waitHealth(l),
  ];
}

export const launchdLoadedProbe = loaded;

function dirOf(path: string): string {
  return path.slice(0, path.lastIndexOf("/")) || "/";
}
