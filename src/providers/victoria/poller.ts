/**
 * The polling of an accepted Victoria task as a pure state machine: the adapter feeds it what
 * `GET /run/status/{task_id}` answered and the current time, and it says whether to wait (how
 * long, with which progress notes), stop with a result, or give up. Keeping time and I/O out
 * makes backoff, deadline and error handling testable without sleeping.
 */
import type { RunResult } from "./response.ts";

export interface Backoff {
  initialMs: number;
  maxMs: number;
  factor: number;
}
export const BACKOFF: Backoff = { initialMs: 500, maxMs: 5000, factor: 2 };
/** Polling is a read, so a blip is retried; this many failures in a row means Victoria is gone. */
export const MAX_POLL_FAILURES = 5;

export interface PollState {
  taskId: string;
  deadline: number;
  delayMs: number;
  /** "status — stage" last reported, to note only changes. */
  lastNote?: string;
  failures: number;
  backoff: Backoff;
}

export type PollInput =
  | { type: "status"; body: RunResult }
  | { type: "http"; status: number; detail: string }
  | { type: "network"; message: string };

export type PollStep =
  | { type: "wait"; delayMs: number; notes: string[] }
  | { type: "done"; result: RunResult }
  | { type: "lost"; message: string }
  | { type: "timeout" };

export function startPolling(taskId: string, deadline: number, now: number, backoff: Backoff = BACKOFF): { state: PollState; step: PollStep } {
  const state: PollState = { taskId, deadline, delayMs: backoff.initialMs, failures: 0, backoff };
  return { state, step: waitStep(state, now, []) };
}

export function advance(state: PollState, input: PollInput, now: number): { state: PollState; step: PollStep } {
  if (input.type === "status") {
    const status = String(input.body.status ?? "");
    if (status === "completed" || status === "failed") return { state, step: { type: "done", result: input.body } };
    const note = noteOf(status, input.body.stage);
    const notes = note && note !== state.lastNote ? [note] : [];
    const next = { ...state, failures: 0, lastNote: note ?? state.lastNote, delayMs: grow(state) };
    return { state: next, step: waitStep(next, now, notes) };
  }
  if (input.type === "http" && input.status === 404) {
    // Victoria keeps tasks in memory: a 404 means she restarted or forgot it; it will not come back.
    return { state, step: { type: "lost", message: `Victoria no longer knows task ${state.taskId} (404: ${input.detail || "not found"}); she may have restarted` } };
  }
  const failures = state.failures + 1;
  const what = input.type === "http" ? `HTTP ${input.status}: ${input.detail}` : input.message;
  if (failures >= MAX_POLL_FAILURES)
    return { state, step: { type: "lost", message: `polling task ${state.taskId} failed ${failures} times in a row (last: ${what})` } };
  const next = { ...state, failures, delayMs: grow(state) };
  return { state: next, step: waitStep(next, now, []) };
}

function grow({ delayMs, backoff }: PollState) {
  return Math.min(backoff.maxMs, delayMs * backoff.factor);
}

/** The next wait, cut to the deadline so one last poll happens right at it. */
function waitStep(state: PollState, now: number, notes: string[]): PollStep {
  const left = state.deadline - now;
  if (left <= 0) return { type: "timeout" };
  return { type: "wait", delayMs: Math.min(state.delayMs, left), notes };
}

function noteOf(status: string, stage: unknown): string | undefined {
  const s = typeof stage === "string" && stage.trim() ? stage.trim() : "";
  if (!status && !s) return undefined;
  return s ? `${status || "running"}: ${s}` : status;
}
