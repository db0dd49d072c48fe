import { describe, expect, test } from "bun:test";
import { advance, MAX_POLL_FAILURES, startPolling, type PollState, type PollStep } from "./poller.ts";

const running = (stage?: string) => ({ type: "status" as const, body: { status: "running", stage } });

describe("poller", () => {
  test("backs off 0.5 s → 5 s and notes only changes of status or stage", () => {
    let { state, step } = startPolling("t", 1_000_000, 0);
    const waits: number[] = [];
    const notes: string[] = [];
    const inputs = [{ type: "status" as const, body: { status: "queued" } }, running("plan"), running("plan"), running("code"), running("code"), running("code")];
    for (const input of inputs) {
      if (step.type !== "wait") throw new Error(step.type);
      waits.push(step.delayMs);
      notes.push(...step.notes);
      ({ state, step } = advance(state, input, 0));
    }
    expect(waits).toEqual([500, 1000, 2000, 4000, 5000, 5000]);
    expect(notes).toEqual(["queued", "running: plan", "running: code"]);
  });

  test("a provider's own intervals: poll_interval_s doubling up to max_poll_interval_s", () => {
    let { state, step } = startPolling("t", 1_000_000, 0, { initialMs: 50, maxMs: 300, factor: 2 });
    const waits: number[] = [];
    for (let i = 0; i < 5; i++) {
      if (step.type !== "wait") throw new Error(step.type);
      waits.push(step.delayMs);
      ({ state, step } = advance(state, running("x"), 0));
    }
    expect(waits).toEqual([50, 100, 200, 300, 300]);
  });

  test("completed and failed end polling with the result", () => {
    const { state } = startPolling("t", 10_000, 0);
    expect(advance(state, { type: "status", body: { status: "completed", output: "x" } }, 0).step).toEqual({ type: "done", result: { status: "completed", output: "x" } });
    expect(advance(state, { type: "status", body: { status: "failed", error: "e" } }, 0).step.type).toBe("done");
  });

  test("the last wait is cut to the deadline, and a poll past it is a timeout", () => {
    const { state } = startPolling("t", 1200, 0);
    expect(advance(state, running(), 900).step).toEqual({ type: "wait", delayMs: 300, notes: ["running"] });
    expect(advance(state, running(), 1200).step).toEqual({ type: "timeout" });
  });

  test("a 404 means the task is lost; other failures are retried up to a limit", () => {
    let { state } = startPolling("t-9", 1_000_000, 0);
    const lost = advance(state, { type: "http", status: 404, detail: "Task not found" }, 0).step as Extract<PollStep, { type: "lost" }>;
    expect(lost.message).toContain("no longer knows task t-9");
    let step: PollStep = { type: "wait", delayMs: 0, notes: [] };
    for (let i = 0; i < MAX_POLL_FAILURES; i++) ({ state, step } = advance(state as PollState, { type: "network", message: "reset" }, 0));
    expect(step.type).toBe("lost");
    // A good answer in between resets the count.
    ({ state } = startPolling("t", 1_000_000, 0));
    for (let i = 0; i < MAX_POLL_FAILURES * 2; i++) {
      ({ state, step } = advance(state, i % 2 ? running() : { type: "http", status: 502, detail: "bad gateway" }, 0));
      expect(step.type).toBe("wait");
    }
  });
});
