/**
 * One health probe: GET the health URL (or, with only a port, a TCP connect) and classify the
 * answer. Health reads the body, not only the code — Knowledge OS answers 200 with
 * `"status":"unhealthy"` and the MLX server 200 with `"critical"`.
 *
 * The probe alone cannot tell "the service, sick" from "someone else on its port"; it returns
 * `mismatch` for answers that don't look like the service at all (404, wrong body shape), and
 * the supervisor asks the port table who holds the port before calling it a conflict.
 */
import type { Service } from "../config/load.ts";

export type ProbeResult =
  | { outcome: "ok"; degraded?: string }
  | { outcome: "unhealthy"; reason: string }
  | { outcome: "unreachable"; reason: string }
  /** Something answers, but not as this service (404, not JSON, expected fields missing). */
  | { outcome: "mismatch"; reason: string };

/** Body statuses that are healthy enough to serve but worth showing (the MLX server's). */
const SOFT_STATUSES = new Set(["warning", "degraded"]);

export async function probeService(svc: Pick<Service, "health" | "port" | "expect" | "timeout_s">, fetchImpl: typeof fetch = fetch): Promise<ProbeResult> {
  if (!svc.health) return svc.port ? probeTcp(svc.port, svc.timeout_s * 1000) : { outcome: "unreachable", reason: "no health URL or port configured" };
  let res: Response;
  try {
    res = await fetchImpl(svc.health, { signal: AbortSignal.timeout(svc.timeout_s * 1000), redirect: "manual", headers: { accept: "application/json" } });
  } catch (err) {
    return classifyFetchError(err, svc.timeout_s * 1000);
  }
  let text = "";
  try {
    text = await res.text();
  } catch (err) {
    return { outcome: "unhealthy", reason: `reading the health body failed: ${(err as Error).message}` };
  }
  return classifyAnswer(res.status, text, svc.expect);
}

/** Pure: what an HTTP answer means for a service with these `expect` rules. */
export function classifyAnswer(status: number, text: string, expect?: Service["expect"]): ProbeResult {
  const snippet = text.replace(/\s+/g, " ").trim().slice(0, 120);
  if (status >= 500) return { outcome: "unhealthy", reason: `HTTP ${status}${snippet ? `: ${snippet}` : ""}` };
  if (status < 200 || status >= 300) return { outcome: "mismatch", reason: `HTTP ${status} from the health URL${snippet ? `: ${snippet}` : ""}` };
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  const softStatus = isRecord(body) && typeof body.status === "string" && SOFT_STATUSES.has(body.status) ? `reports status "${body.status}"` : undefined;
  if (!expect || !Object.keys(expect).length) return softStatus ? { outcome: "ok", degraded: softStatus } : { outcome: "ok" };
  if (!isRecord(body)) return { outcome: "mismatch", reason: `health answer is not a JSON object${snippet ? `: ${snippet}` : ""}` };
  for (const [field, allowed] of Object.entries(expect)) {
    if (!(field in body)) return { outcome: "mismatch", reason: `health answer has no "${field}" field: ${snippet}` };
    const value = body[field];
    if (!allowed.some((a) => a === value)) {
      const extra = typeof body.error === "string" ? ` (${body.error.slice(0, 200)})` : "";
      return { outcome: "unhealthy", reason: `${field} is ${JSON.stringify(value)}, expected ${allowed.map((a) => JSON.stringify(a)).join(" | ")}${extra}` };
    }
  }
  return softStatus ? { outcome: "ok", degraded: softStatus } : { outcome: "ok" };
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === "object" && x !== null && !Array.isArray(x);
}

function classifyFetchError(err: unknown, timeoutMs: number): ProbeResult {
  const e = err as { name?: string; code?: string; message?: string };
  if (e.name === "TimeoutError" || e.name === "AbortError") return { outcome: "unhealthy", reason: `no answer within ${timeoutMs} ms` };
  const msg = `${e.code ?? ""} ${e.message ?? ""}`;
  if (/ECONNREFUSED|ConnectionRefused|Unable to connect|ENOENT|EHOSTUNREACH|ENETUNREACH/i.test(msg))
    return { outcome: "unreachable", reason: "connection refused" };
  // A reset or garbage reply means something listens but doesn't speak HTTP as expected.
  if (/ECONNRESET|ConnectionClosed|socket|parse|HTTP/i.test(msg)) return { outcome: "mismatch", reason: `not an HTTP health answer (${msg.trim()})` };
  return { outcome: "unreachable", reason: msg.trim() || "fetch failed" };
}

function probeTcp(port: number, timeoutMs: number, hostname = "127.0.0.1"): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ outcome: "unhealthy", reason: `TCP connect to :${port} timed out` }), timeoutMs);
    Bun.connect({
      hostname,
      port,
      socket: {
        open(s) {
          clearTimeout(timer);
          s.end();
          resolve({ outcome: "ok" });
        },
        data() {},
        connectError(_s, err) {
          clearTimeout(timer);
          resolve({ outcome: "unreachable", reason: err.message || "connection refused" });
        },
      },
    }).catch((err: Error) => {
      clearTimeout(timer);
      resolve({ outcome: "unreachable", reason: err.message || "connection refused" });
    });
  });
}
