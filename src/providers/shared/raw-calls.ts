/**
 * What the model itself wrote for each tool call, by tool_use id, so the model's own turn goes
 * back to it byte for byte. A local server reuses its KV cache only up to the first byte that
 * differs from the previous prompt and answer; re-serialising a call (other spacing, other key
 * order — Claude Code puts `replace_all` first in every Edit it sends back) costs a re-prefill
 * from that call on. Bounded in entries and bytes; the oldest are forgotten first.
 */
import { isObject } from "../../anthropic/normalise.ts";

interface Entry {
  input: Record<string, unknown>;
  raw: string;
  bytes: number;
}

export type Remember = (id: string, input: Record<string, unknown>, raw: string) => void;
export type Recall = (id: string, input: Record<string, unknown>) => string | undefined;

export class RawCalls {
  private readonly entries = new Map<string, Entry>();
  private bytes = 0;

  constructor(
    private readonly maxEntries = 4096,
    private readonly maxBytes = 16 * 1024 * 1024,
  ) {}

  readonly remember: Remember = (id, input, raw) => {
    this.forget(id);
    const bytes = raw.length * 2 + id.length * 2;
    if (bytes > this.maxBytes) return;
    this.entries.set(id, { input, raw, bytes });
    this.bytes += bytes;
    while (this.entries.size > this.maxEntries || this.bytes > this.maxBytes) this.forget(this.entries.keys().next().value!);
  };

  /** The model's own text for this call, if the client sends back the input the model produced. */
  readonly recall: Recall = (id, input) => {
    const e = this.entries.get(id);
    if (!e || !sameInput(e.input, input)) return undefined;
    // Recently used stays longest.
    this.entries.delete(id);
    this.entries.set(id, e);
    return e.raw;
  };

  get size(): number {
    return this.entries.size;
  }

  private forget(id: string) {
    const e = this.entries.get(id);
    if (!e) return;
    this.entries.delete(id);
    this.bytes -= e.bytes;
  }
}

/**
 * Equal as JSON values, key order aside; the client may add keys the model left out when their
 * value is `false` (Claude Code adds `replace_all: false` to the Edit calls it sends back).
 */
export function sameInput(generated: Record<string, unknown>, sent: Record<string, unknown>): boolean {
  for (const [k, v] of Object.entries(sent)) if (!(k in generated) && v !== false) return false;
  for (const [k, v] of Object.entries(generated)) if (!(k in sent) || !sameValue(v, sent[k])) return false;
  return true;
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => sameValue(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && sameValue(a[k], b[k]));
  }
  return false;
}

/** The process's memory of generated calls, shared by every kind's adapter. */
export const rawCalls = new RawCalls();
