/** "Is atrad up at this URL?" with a plain GET /health — no dependency on the supervisor. */

export type HealthAnswer =
  | { state: "atrad"; version: string; uptimeS: number; /** absent from atrads before 0.2 */ pid?: number }
  /** Something answers on the port, but it is not atrad (another proxy, an old Python one…). */
  | { state: "other"; detail: string }
  | { state: "down"; detail: string };

export async function probeHealth(url: string, timeoutMs = 2000): Promise<HealthAnswer> {
  let res: Response;
  try {
    res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    return { state: "down", detail: (err as Error).message };
  }
  const text = await res.text().catch(() => "");
  try {
    const body = JSON.parse(text);
    // atrad's /health is {status:"ok", version, uptime_s}; the old Python proxy and Ollama differ.
    if (res.ok && body?.status === "ok" && typeof body.version === "string" && typeof body.uptime_s === "number")
      return { state: "atrad", version: body.version, uptimeS: body.uptime_s, ...(typeof body.pid === "number" ? { pid: body.pid } : {}) };
  } catch {}
  return { state: "other", detail: `HTTP ${res.status} ${text.slice(0, 80).replace(/\s+/g, " ")}`.trim() };
}

/** Poll /health until atrad answers. One probe is one loopback request, so `atrad start` polls often and returns once the daemon is up. */
export async function waitForHealth(url: string, timeoutMs: number, stepMs = 50): Promise<HealthAnswer> {
  const deadline = Date.now() + timeoutMs;
  let last: HealthAnswer;
  do {
    last = await probeHealth(url, Math.min(2000, Math.max(200, deadline - Date.now())));
    if (last.state === "atrad") return last;
    await Bun.sleep(stepMs);
  } while (Date.now() < deadline);
  return last;
}
