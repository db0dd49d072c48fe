/**
 * Linux: a systemd --user unit (~/.config/systemd/user/atrad.service) and the systemctl verbs.
 * A user unit only runs while the user has a session unless lingering is enabled, hence the
 * `loginctl enable-linger` hint install prints.
 */
import { NO_RESTART_EXITS } from "./exit-codes.ts";
import { UNIT, serviceEnv, type Layout } from "./layout.ts";
import type { Plan } from "./plan.ts";

/** systemd's quoting for ExecStart/Environment: double quotes, with \ and " escaped. */
function q(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `"${s.replaceAll("\\", "\\\\").replaceAll('"', '\\"')}"`;
}

/** `%` starts a specifier in unit files; a literal one is `%%`. */
const pct = (s: string) => s.replaceAll("%", "%%");

/**
 * WorkingDirectory= takes the path as it is: no quotes (they would be part of the name), and
 * spaces are fine; only `%` needs escaping. A path with a newline cannot be written at all.
 */
function path(s: string): string {
  if (/[\n\r]/.test(s)) throw new Error(`cannot write a systemd unit for a path with a line break: ${JSON.stringify(s)}`);
  return pct(s);
}
export function renderUnit(layout: Layout): string {
  const env = Object.entries(serviceEnv(layout))
    .map(([k, v]) => `Environment=${q(pct(`${k}=${v}`))}`)
    .join("\n");
  return `# atrad's login service. Written by \`atrad install\`; \`atrad uninstall\` removes it.
[Unit]
Description=atrad: Anthropic Messages API gateway for local models
# Give up after 5 crashes in a minute instead of looping forever; \`atrad doctor\` shows why.
StartLimitIntervalSec=60
StartLimitBurst=5

[Service]
Type=simple
ExecStart=${q(pct(layout.bin))} serve
WorkingDirectory=${path(layout.atradHome)}
${env}
Restart=on-failure
RestartSec=5
# Exits a restart cannot fix (an invalid config; the port or ATRAD_HOME already in use): stay
# failed and let the log say why.
RestartPreventExitStatus=${NO_RESTART_EXITS.join(" ")}
# SIGTERM goes to atrad alone: it drains streams and stops the children it owns; whatever is
# left after TimeoutStopSec is killed with the rest of the cgroup.
KillMode=mixed
TimeoutStopSec=30

[Install]
WantedBy=default.target
`;
}

const ctl = (...args: string[]) => ["systemctl", "--user", ...args];

function waitHealth(l: Layout): Plan {
  return [{ op: "wait-health", url: l.url, timeoutMs: 20_000, expect: { pid: { from: "systemd" as const, unit: UNIT } }, hint: `see: journalctl --user -u ${UNIT}` }];
}

export function systemdInstall(l: Layout, binary: string | undefined): Plan {
  return [
    { op: "mkdir", path: l.binDir },
    ...(binary ? [{ op: "copy" as const, from: binary, to: l.bin, mode: 0o755 }] : []),
    { op: "mkdir", path: l.atradHome },
    { op: "mkdir", path: l.serviceFile!.slice(0, l.serviceFile!.lastIndexOf("/")) },
    { op: "write", path: l.serviceFile!, content: renderUnit(l), mode: 0o644 },
    { op: "run", argv: ctl("daemon-reload") },
    // Upgrade: restart a running daemon onto the new binary (no-op when it isn't running) …
    { op: "run", argv: ctl("try-restart", UNIT) },
    // … fresh install: enable at login and start now (no-op for a running, enabled unit).
    { op: "run", argv: ctl("enable", "--now", UNIT) },
    ...waitHealth(l),
  ];
}

export function systemdUninstall(l: Layout): Plan {
  return [
    { op: "run", argv: ctl("disable", "--now", UNIT), onlyIf: ["test", "-e", l.serviceFile!] },
    { op: "remove", path: l.serviceFile! },
    { op: "run", argv: ctl("daemon-reload") },
    { op: "remove", path: l.bin },
  ];
}

export const systemdStart = (l: Layout): Plan => [{ op: "run", argv: ctl("start", UNIT) }, ...waitHealth(l)];
export const systemdStop = (_l: Layout): Plan => [{ op: "run", argv: ctl("stop", UNIT) }];
export const systemdRestart = (l: Layout): Plan => [{ op: "run", argv: ctl("restart", UNIT) }, ...waitHealth(l)];
