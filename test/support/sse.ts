/** Read a raw SSE response into events (test-side), keeping the wire order. */
import { parseSse } from "../../src/wire/sse.ts";

export async function readEvents(res: Response): Promise<Array<{ event: string; data: any }>> {
  const out: Array<{ event: string; data: any }> = [];
  for await (const m of parseSse(res.body!)) out.push({ event: m.event ?? "message", data: JSON.parse(m.data) });
  return out;
}

export function post(url: string, body: unknown, headers: Record<string, string> = {}) {
  return fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json", "anthropic-version": "2023-06-01", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}
