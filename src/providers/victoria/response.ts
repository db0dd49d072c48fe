/**
 * Victoria's `/run` results → Anthropic events. Pure.
 *
 * The old proxy split text on whitespace and lost newlines and indentation; here the output is
 * cut only into pieces whose concatenation is the output itself, and every failure becomes an
 * Anthropic error that carries Victoria's own message and the task id.
 */
import type { Converter } from "../../anthropic/converter.ts";
import { AtradError } from "../../anthropic/errors.ts";
import { emptyMessage, type StreamEvent } from "../../anthropic/types.ts";
import { estimateTokens } from "../../tokens/count.ts";
import { limitText } from "../shared/stop.ts";

/** The union of the sync reply and the status document: both carry status + output. */
export interface RunResult {
  status?: string;
  output?: unknown;
  error?: unknown;
  detail?: unknown;
  stage?: unknown;
  task_id?: string;
  correlation_id?: string;
  clarification_questions?: unknown;
  suggested_restatement?: unknown;
  original_goal?: unknown;
  [k: string]: unknown;
}

export type Answer = { kind: "text"; text: string } | { kind: "error"; message: string };

export interface Ids {
  /** The provider's name as the user configured it (victoria, veronica, …). */
  provider: string;
  taskId?: string;
  correlationId: string;
}

/** Where a failure message says which Victoria run it was, so the user can find it in her logs. */
export function describeRun(ids: Ids): string {
  return ids.taskId ? `task ${ids.taskId}, correlation id ${ids.correlationId}` : `correlation id ${ids.correlationId}`;
}

/** A finished result (sync 200 or a `completed`/`failed` status) → what to tell the client. */
export function answerOf(result: RunResult, ids: Ids): Answer {
  const status = String(result.status ?? "");
  if (status === "needs_clarification") return { kind: "text", text: clarificationText(result) };
  if (status === "failed" || status === "error") {
    const why = messageOf(result.error) ?? messageOf(result.detail) ?? messageOf(result.output) ?? "no reason given";
    return { kind: "error", message: `${ids.provider} failed (${describeRun(ids)}): ${why}` };
  }
  return { kind: "text", text: outputText(result.output) };
}

/** `output` is text in practice; anything else is shown as indented JSON rather than dropped. */
export function outputText(output: unknown): string {
  if (output === undefined || output === null) return "";
  if (typeof output === "string") return output;
  return JSON.stringify(output, null, 2);
}

function messageOf(x: unknown): string | undefined {
  if (x === undefined || x === null || x === "") return undefined;
  return typeof x === "string" ? x : JSON.stringify(x);
}

/** Victoria asks before it acts: list the suggested restatement and every question. */
export function clarificationText(result: RunResult): string {
  const raw = Array.isArray(result.clarification_questions) ? result.clarification_questions : [];
  const questions = raw
    .map((q) => (typeof q === "string" ? q : q && typeof q === "object" && "text" in q ? String((q as { text: unknown }).text) : JSON.stringify(q)))
    .filter((q) => q.trim() !== "");
  const parts = ["Victoria needs clarification before she starts."];
  if (typeof result.suggested_restatement === "string" && result.suggested_restatement.trim())
    parts.push(`Suggested restatement:\n${result.suggested_restatement}`);
  if (questions.length) parts.push(`Questions:\n${questions.map((q, i) => `${i + 1}. ${q}`).join("\n")}`);
  parts.push("Answer the questions, or reply with the restatement, to continue.");
  return parts.join("\n\n");
}

/**
 * Cut text into pieces of at most `max` UTF-16 units, preferring to end a piece at a newline,
 * never inside a surrogate pair. `pieces.join("") === text` always holds.
 */
export function chunkText(text: string, max = 256): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < text.length) {
    let end = Math.min(text.length, i + max);
    const nl = text.lastIndexOf("\n", end - 1);
    if (end < text.length && nl >= i) end = nl + 1;
    // Don't end between a high and a low surrogate (an emoji would arrive as two broken halves).
    if (end < text.length && end > i + 1 && isHigh(text.charCodeAt(end - 1))) end--;
    out.push(text.slice(i, end));
    i = end;
  }
  return out;
}

const isHigh = (c: number) => c >= 0xd800 && c <= 0xdbff;

/** What the poller learns about a run, in order: progress notes, then the answer. */
export type RunUpdate = { type: "progress"; note: string } | { type: "answer"; answer: Answer };

/**
 * Builds the event sequence of one answer: `message_start` first (sent before Victoria is
 * done, so the client sees the stream open), an optional thinking block of progress notes,
 * then one text block. An answer that is an error is thrown, as every converter fails.
 */
export class AnswerEvents implements Converter<RunUpdate> {
  private index = 0;
  private thinkingOpen = false;
  private finished = false;

  constructor(
    private readonly model: string,
    private readonly inputTokens: number,
    /** Victoria knows neither: atrad holds the whole text, so it cuts it itself. */
    private readonly limits: { stopSequences?: string[]; maxTokens?: number } = {},
  ) {}

  start(): StreamEvent[] {
    return [{ type: "message_start", message: emptyMessage(this.model, undefined, this.inputTokens) }];
  }

  push(update: RunUpdate): StreamEvent[] {
    switch (update.type) {
      case "progress":
        return this.progress(update.note);
      case "answer":
        return this.finish(update.answer);
      default:
        return unreachable(update);
    }
  }

  end(): StreamEvent[] {
    return [];
  }

  get done(): boolean {
    return this.finished;
  }

  /** A progress note (a stage change) as a thinking delta, opening the block on first use. */
  private progress(note: string): StreamEvent[] {
    const out: StreamEvent[] = [];
    if (!this.thinkingOpen) {
      this.thinkingOpen = true;
      out.push({ type: "content_block_start", index: this.index, content_block: { type: "thinking", thinking: "", signature: "" } });
    }
    out.push({ type: "content_block_delta", index: this.index, delta: { type: "thinking_delta", thinking: note } });
    return out;
  }

  private finish(answer: Answer): StreamEvent[] {
    this.finished = true;
    if (answer.kind === "error") throw new AtradError("api_error", answer.message);
    const out = this.closeThinking();
    const index = this.index;
    const limited = limitText(answer.text, this.limits.stopSequences ?? [], this.limits.maxTokens ?? Number.POSITIVE_INFINITY);
    out.push({ type: "content_block_start", index, content_block: { type: "text", text: "" } });
    for (const piece of chunkText(limited.text)) out.push({ type: "content_block_delta", index, delta: { type: "text_delta", text: piece } });
    out.push({ type: "content_block_stop", index });
    out.push({
      type: "message_delta",
      delta: { stop_reason: limited.stopReason, stop_sequence: limited.stopSequence },
      usage: { input_tokens: this.inputTokens, output_tokens: estimateTokens(limited.text) },
    });
    out.push({ type: "message_stop" });
    return out;
  }

  private closeThinking(): StreamEvent[] {
    if (!this.thinkingOpen) return [];
    this.thinkingOpen = false;
    return [{ type: "content_block_stop", index: this.index++ }];
  }
}

function unreachable(x: never): never {
  throw new Error(`unhandled update ${JSON.stringify(x)}`);
}
