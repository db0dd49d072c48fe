/**
 * Pure formatting for the status page: kept free of the DOM so bun:test can check it and
 * the page and any future CLI view agree on how a duration or a sparkline looks.
 */

/** "42s", "3m 12s", "5h 04m", "2d 3h": two units at most, a glance not a stopwatch. */
export function duration(seconds: number | null | undefined): string {
  if (seconds == null || !Number.isFinite(seconds) || seconds < 0) return "—";
  const s = Math.floor(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${String(s % 60).padStart(2, "0")}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${String(m % 60).padStart(2, "0")}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** Milliseconds as people read them: "850 ms", "1.2 s", "14 s". */
export function ms(value: number | null | undefined): string {
  if (value == null || !Number.isFinite(value)) return "—";
  if (value < 1000) return `${Math.round(value)} ms`;
  if (value < 10_000) return `${(value / 1000).toFixed(1)} s`;
  return `${Math.round(value / 1000)} s`;
}

/** Seconds elapsed since an ISO time (null when the time is missing or unreadable). */
export function secondsSince(iso: string | null | undefined, now = Date.now()): number | null {
  if (!iso) return null;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : Math.max(0, (now - t) / 1000);
}

/** Local wall-clock time of an ISO stamp, seconds included (requests arrive seconds apart). */
export function clock(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, "0")).join(":");
}

/** "in → out", with the prompt's cached part and share when the backend reported one. */
export function tokens(input: number | null, output: number | null, cacheRead?: number | null): string {
  if (input == null && output == null) return "—";
  const cached = cacheRead ? ` + ${cacheRead} cached (${Math.floor((100 * cacheRead) / (cacheRead + (input ?? 0)))} %)` : "";
  return `${input ?? "?"}${cached} → ${output ?? "?"}`;
}

/**
 * Polyline points for a latency sparkline in a w×h box. The y axis starts at zero (a spike
 * should look like one, not like noise stretched to full height); a lone point is drawn as a
 * flat line across the middle so one request still shows up.
 */
export function sparkPoints(values: number[], w: number, h: number, pad = 2): string {
  if (!values.length) return "";
  const max = Math.max(...values, 1);
  const y = (v: number) => +(h - pad - (v / max) * (h - 2 * pad)).toFixed(1);
  if (values.length === 1) return `${pad},${h / 2} ${w - pad},${h / 2}`;
  const step = (w - 2 * pad) / (values.length - 1);
  return values.map((v, i) => `${+(pad + i * step).toFixed(1)},${y(v)}`).join(" ");
}

/** The status document's service and provider states grouped into the few colours a badge can carry. */
export function tone(state: string): "ok" | "warn" | "bad" | "idle" {
  switch (state) {
    case "up":
      return "ok";
    case "degraded":
    case "starting":
    case "backoff":
      return "warn";
    case "down":
    case "failed":
    case "conflict":
      return "bad";
    default:
      return "idle";
  }
}
