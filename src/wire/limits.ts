/**
 * Bounds on what one upstream may make atrad hold in memory. A line (NDJSON) or an event (SSE)
 * is buffered whole before it can be parsed, so each is capped: a runaway or hostile upstream
 * ends with an `error` event instead of growing the daemon without limit. 16 MiB leaves room
 * for the largest legitimate frame — Ollama sends a tool call whole on one line, so a Write of
 * a big file is one line — while a 50 MB line costs at most the cap.
 */
import { AtradError } from "../anthropic/errors.ts";

export const MAX_FRAME_BYTES = 16 * 1024 * 1024;

export interface FrameLimits {
  /** Largest line (NDJSON) or event (SSE) accepted, in bytes. */
  maxFrameBytes?: number;
}

const MiB = (n: number) => `${Math.round((n / 1024 / 1024) * 10) / 10} MiB`;

/** The upstream broke the protocol: a 502 (non-streaming) or an `error` event (streaming). */
export function brokenUpstream(target: string, what: string): AtradError {
  return new AtradError("api_error", `${target} ${what}`, { status: 502 });
}

const UNIT = { line: "a line", event: "an event", body: "a body" } as const;

export function frameTooLarge(target: string, unit: keyof typeof UNIT, max: number): AtradError {
  return brokenUpstream(target, `sent ${UNIT[unit]} longer than ${MiB(max)}; atrad stopped reading it (the upstream is misbehaving)`);
}
