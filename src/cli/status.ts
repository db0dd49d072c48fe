/**
 * `atrad status`: what the daemon knows, as a table or as the status document's JSON
 * (observe/status-document.ts). Exit 0 when the daemon answers, 3 when it doesn't — then the
 * services are still probed directly, so the user learns what is down even with atrad stopped.
 *
 * Finding the daemon: --url, else `$ATRAD_HOME/run/atrad.json` (written by the daemon, so
 * `serve --port 0` is found too), else the configured host:port.
 */
import { ConfigError, loadConfig, resolveConfig, type Config, type Service } from "../config/load.ts";
import { maskUrls } from "../mask.ts";
import { readDaemonState } from "../daemon/state.ts";
import { statusDocumentError, type ServiceEntry, type StatusDocument } from "../observe/status-document.ts";
import { probeService } from "../supervisor/probe.ts";
import { portHolder } from "../supervisor/ports.ts";
import { VERSION } from "../version.ts";
import { checkUrl, connectUrl } from "./client.ts";
import { EXIT_DAEMON_DOWN, EXIT_NOT_ANSWERING, EXIT_SERVICE_FAILED, UsageError, type Input } from "./command.ts";
import type { statusOptions } from "./commands.ts";
import type { CliIO } from "./io.ts";

export async function statusCommand({ values }: Input<typeof statusOptions>, io: CliIO): Promise<number> {
  const given = checkUrl(values.url);
  const timeoutS = Number(values.timeout);
  if (!/^\d+(\.\d+)?$/.test(values.timeout) || !(timeoutS > 0)) throw new UsageError(`--timeout "${values.timeout}" is not a number of seconds above 0`);
  const config = loadForStatus(io, values.config);
  const url = given ?? (readDaemonState(config.home)?.url ?? connectUrl(config)).replace(/\/+$/, "");
  // Masked here as well as in the daemon: the offline document is built from the config file.
  const print = (doc: StatusDocument) => io.out(values.json ? JSON.stringify(maskUrls(doc), null, 2) + "\n" : renderStatus(maskUrls(doc), useColour(io)));

  const fetched = await fetchStatus(url, config, timeoutS);
  switch (fetched.answer) {
    case "status":
      print(fetched.doc);
      return fetched.doc.services.some((s) => s.state === "failed" || s.state === "conflict") ? EXIT_SERVICE_FAILED : 0;
    case "nothing":
      print(await offlineStatus(config, url));
      return EXIT_DAEMON_DOWN;
    case "silent": {
      io.err(`atrad status: ${url} accepts connections but did not answer within ${timeoutS} s: the daemon is not answering (hung?). See atrad logs; atrad restart replaces it.\n`);
      const doc = await offlineStatus(config, url);
      print({ ...doc, daemon: { ...doc.daemon, running: true, pid: readDaemonState(config.home)?.pid ?? null, answering: false } });
      return EXIT_NOT_ANSWERING;
    }
    case "other":
      io.err(`atrad status: ${fetched.message}\n`);
      print(await offlineStatus(config, url));
      return 1;
    default:
      return fetched satisfies never;
  }
}

function loadForStatus(io: CliIO, file?: string): Config {
  try {
    return loadConfig({ env: io.env, file });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    // A broken config must not hide what is running: report it and look with the defaults.
    io.err(`atrad status: ${err.message}\n  (showing the default services)\n`);
    return resolveConfig({}, { env: io.env });
  }
}

/** What answered at the URL: atrad's status, nothing at all, or something else. */
type Fetched = { answer: "status"; doc: StatusDocument } | { answer: "nothing" } | { answer: "silent" } | { answer: "other"; message: string };

async function fetchStatus(url: string, config: Config, timeoutS: number): Promise<Fetched> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (config.server.auth_tokens[0]) headers["x-api-key"] = config.server.auth_tokens[0];
  let res: Response;
  try {
    res = await fetch(`${url}/atrad/status`, { headers, signal: AbortSignal.timeout(timeoutS * 1000) });
  } catch (err) {
    const e = err as Error;
    return e.name === "TimeoutError" ? { answer: "silent" } : { answer: "nothing" };
  }
  const text = await res.text();
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    doc = undefined;
  }
  const mismatch = res.ok ? statusDocumentError(doc) : undefined;
  if (res.ok && !mismatch) return { answer: "status", doc: doc as StatusDocument };
  if (res.ok && doc !== undefined)
    return { answer: "other", message: `${url} answered JSON that is not atrad's status document (${mismatch}); is it an atrad of another version, or not atrad at all?` };
  const detail = (doc as { error?: { message?: string } } | undefined)?.error?.message ?? text.slice(0, 200);
  return { answer: "other", message: `${url} answered HTTP ${res.status}, not atrad's status${detail ? `: ${detail}` : ""}` };
}

/** The document with the daemon down: services probed here and now, providers unknown. */
export async function offlineStatus(config: Config, url: string): Promise<StatusDocument> {
  const services = await Promise.all(config.services.map((s) => probeOnce(s)));
  return {
    daemon: { running: false, pid: null, version: VERSION, url, uptime_s: null },
    providers: config.providers.map((p) => {
      const backing = services.find((s) => s.provider === p.name && s.port !== null && p.urls.some((u) => u.endsWith(`:${s.port}`)));
      return { name: p.name, kind: p.kind, url: p.urls[0]!, state: backing ? (backing.state === "degraded" ? "up" : backing.state) : "unknown", models: [] };
    }),
    services,
  };
}

async function probeOnce(s: Service): Promise<ServiceEntry> {
  const r = await probeService(s);
  const base = { name: s.name, port: s.port ?? null, owned: !!s.command, pid: null, restarts: 0, since: new Date().toISOString(), ...(s.provider ? { provider: s.provider } : {}), ...(s.health ? { health: s.health } : {}) };
  if (r.outcome === "ok") return { ...base, state: r.degraded ? "degraded" : "up", last_error: r.degraded ?? null };
  if (r.outcome !== "mismatch") return { ...base, state: "down", last_error: r.reason };
  const holder = s.port ? await portHolder(s.port) : undefined;
  const who = holder ? `pid ${holder.pid} (${holder.command})` : "a process atrad cannot identify";
  return { ...base, state: "conflict", last_error: `port ${s.port} is held by ${who}, which does not answer as ${s.name}: ${r.reason}`, ...(holder ? { holder } : {}) };
}

// ---- rendering --------------------------------------------------------------------------

function useColour(io: CliIO) {
  return io.isTTY && !io.env.NO_COLOR && io.env.TERM !== "dumb";
}

const COLOURS: Record<string, string> = { up: "32", degraded: "33", starting: "36", backoff: "33", down: "31", failed: "31", conflict: "35", stopped: "90", unknown: "90" };

export function renderStatus(doc: StatusDocument, colour = false): string {
  const paint = (code: string | undefined, s: string) => (colour && code ? `\x1b[${code}m${s}\x1b[0m` : s);
  const bold = (s: string) => paint("1", s);
  const d = doc.daemon;
  const out: string[] = [];
  out.push(
    d.answering === false
      ? `${bold("atrad")} ${d.version}  ${paint("31", "not answering")}${d.pid ? `  pid ${d.pid}` : ""} (${d.url} accepts connections but does not answer) — see \`atrad logs\`; services probed directly:`
      : d.running
        ? `${bold("atrad")} ${d.version}  ${paint("32", "running")}  pid ${d.pid}  ${d.url}  up ${ago(d.uptime_s ?? 0)}`
        : `${bold("atrad")} ${d.version}  ${paint("31", "not running")} (nothing answers at ${d.url}) — start it with \`atrad start\` or \`atrad serve\`; services probed directly:`,
  );
  if (doc.config?.error) out.push(`${paint("31", "config reload rejected")} (${doc.config.file}; the running config stays): ${oneLine(doc.config.error)}`);
  if (doc.disk?.home_error) out.push(`${paint("33", "ATRAD_HOME not writable")} (logging to stderr only): ${oneLine(doc.disk.home_error)}`);
  if (doc.disk?.request_log.error) out.push(`${paint("33", "request log failing")} since ${doc.disk.request_log.since} (${doc.disk.request_log.pending} records waiting, retried): ${oneLine(doc.disk.request_log.error)}`);
  out.push("");
  const rows = doc.services.map((s) => [s.name, s.port === null ? "-" : String(s.port), s.state, s.owned ? "yes" : "no", s.pid === null ? "-" : String(s.pid), String(s.restarts), d.running ? ago(secondsSince(s.since)) : "-", oneLine(s.last_error ?? "")]);
  out.push(...table(["SERVICE", "PORT", "STATE", "OWNED", "PID", "RESTARTS", "SINCE", "DETAIL"], rows, 2, (v) => paint(COLOURS[v], v), bold));
  for (const s of doc.services) {
    if (s.note) out.push(`  ${s.name}: ${oneLine(s.note)}`);
    if (s.log_tail?.length) {
      out.push(`  ${s.name}: last log lines`);
      for (const l of s.log_tail.slice(-5)) out.push(`    ${l}`);
    }
  }
  if (doc.providers.length) {
    out.push("");
    // The last hour's traffic per provider: requests, errors, p50/p95 latency (daemon up only).
    const ms = (v: number | null | undefined) => (v === null || v === undefined ? "-" : v < 1000 ? `${v}ms` : `${(v / 1000).toFixed(1)}s`);
    const prow = doc.providers.map((p) => [
      p.name,
      p.kind,
      p.url,
      p.state,
      p.models.length ? `${p.models.length} model(s)` : "-",
      p.stats ? String(p.stats.requests_1h) : "-",
      p.stats ? String(p.stats.errors_1h) : "-",
      ms(p.stats?.p50_ms),
      ms(p.stats?.p95_ms),
      oneLine(p.error ?? ""),
    ]);
    out.push(...table(["PROVIDER", "KIND", "URL", "STATE", "MODELS", "REQ/1H", "ERR", "P50", "P95", "DETAIL"], prow, 3, (v) => paint(COLOURS[v], v), bold));
  }
  return out.join("\n") + "\n";
}

/** Left-aligned columns; `stateCol` is coloured after padding so ANSI codes don't skew widths. */
function table(head: string[], rows: string[][], stateCol: number, colourState: (v: string) => string, bold: (s: string) => string): string[] {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[], header: boolean) =>
    cells
      .map((c, i) => {
        const padded = i === cells.length - 1 ? c : c.padEnd(widths[i]!);
        if (header) return bold(padded);
        return i === stateCol ? colourState(c) + padded.slice(c.length) : padded;
      })
      .join("  ")
      .trimEnd();
  return [line(head, true), ...rows.map((r) => line(r, false))];
}

function oneLine(s: string) {
  const l = s.replace(/\s+/g, " ").trim();
  return l.length > 100 ? l.slice(0, 99) + "…" : l;
}

function secondsSince(iso: string) {
  return Math.max(0, (Date.now() - Date.parse(iso)) / 1000);
}

function ago(s: number) {
  if (s < 60) return `${Math.round(s)}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d`;
}
