/**
 * Stop sequences and max_tokens, enforced by atrad (max_tokens by the same estimate that is
 * reported as output_tokens). mlx_lm.server and Ollama stop at a stop
 * string but only say "stop" — and strip the string, so the answer cannot tell a stop
 * sequence from a natural end; Victoria ignores both. So atrad does not hand stop strings to
 * those upstreams: it finds them in the generated text itself, cuts the text there, reports
 * `stop_reason: "stop_sequence"` with the string, and stops reading (which cancels the upstream).
 */
import { estimateTokens } from "../../tokens/count.ts";

/** The earliest of `stops` in text that arrives in pieces; a possible start is held back. */
export class StopScanner {
  private held = "";
  private found: string | null = null;
  private readonly stops: string[];

  constructor(stops: readonly string[] = []) {
    this.stops = stops.filter((s) => s.length > 0);
  }

  /** The stop sequence met, if any. */
  get matched(): string | null {
    return this.found;
  }

  /** Text in; the part surely before any stop sequence out. Nothing once one was met. */
  push(text: string): string {
    if (this.found !== null) return "";
    if (!this.stops.length) return text;
    const buf = this.held + text;
    const hit = firstStop(buf, this.stops);
    if (hit) {
      this.found = hit.stop;
      this.held = "";
      return buf.slice(0, hit.at);
    }
    // Hold back the longest end of the text that could still grow into a stop sequence.
    let keep = 0;
    for (const s of this.stops) {
      for (let k = Math.min(s.length - 1, buf.length); k > keep; k--) {
        if (buf.endsWith(s.slice(0, k))) {
          keep = k;
          break;
        }
      }
    }
    this.held = buf.slice(buf.length - keep);
    return buf.slice(0, buf.length - keep);
  }

  /** The text ended without a stop sequence: what was held back is text after all. */
  end(): string {
    const rest = this.held;
    this.held = "";
    return this.found === null ? rest : "";
  }
}

export function firstStop(text: string, stops: readonly string[]): { at: number; stop: string } | undefined {
  let best: { at: number; stop: string } | undefined;
  for (const stop of stops) {
    if (!stop) continue;
    const at = text.indexOf(stop);
    if (at >= 0 && (!best || at < best.at)) best = { at, stop };
  }
  return best;
}

export interface Limited {
  text: string;
  stopReason: "end_turn" | "stop_sequence" | "max_tokens";
  stopSequence: string | null;
}

/** A whole answer cut at its first stop sequence, then to `maxTokens` tokens (on a code point). */
export function limitText(text: string, stops: readonly string[], maxTokens: number): Limited {
  const hit = firstStop(text, stops);
  const cut = hit ? text.slice(0, hit.at) : text;
  if (estimateTokens(cut) <= maxTokens) return { text: cut, stopReason: hit ? "stop_sequence" : "end_turn", stopSequence: hit?.stop ?? null };
  const points = Array.from(cut);
  // The longest prefix within the budget: token counts only grow as text is added.
  let lo = 0;
  let hi = points.length;
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (estimateTokens(points.slice(0, mid).join("")) <= maxTokens) lo = mid;
    else hi = mid - 1;
  }
  return { text: points.slice(0, lo).join(""), stopReason: "max_tokens", stopSequence: null };
}
