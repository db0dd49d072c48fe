/**
 * OpenAI chat-completion chunks → Anthropic stream events (pure: no I/O, no timers). One
 * converter per response; `start()` opens the message, `push()` takes each SSE payload (`pushChunk()`
 * a parsed chunk), `end()` closes blocks and the message. The output is always well-formed:
 * blocks open and close in order and the stream ends with message_delta + message_stop, or
 * the converter throws and the gateway's guardStream turns that into an `error` event.
 *
 * Tool calls are buffered per call and emitted whole (start + one input_json_delta + stop)
 * once complete, so arguments streamed piecewise (vLLM, LM Studio) and whole (mlx_lm.server)
 * take the same path, and repair can see the complete arguments.
 */
import type { Converter } from "../../anthropic/converter.ts";
import { isObject } from "../../anthropic/normalise.ts";
import { AtradError, errorTypeForStatus } from "../../anthropic/errors.ts";
import { ContentBlocks, newToolUseId, type TextualType } from "../../anthropic/content-blocks.ts";
import { emptyMessage, newMessageId, type StopReason, type StreamEvent, type Usage } from "../../anthropic/types.ts";
import { fromTimings, fromTotal } from "../shared/usage.ts";
import { estimateTokens } from "../../tokens/count.ts";
import { repairToolArguments, unusableToolCallText } from "../shared/repair.ts";
import { sameInput, type Remember } from "../shared/raw-calls.ts";
import { StopScanner } from "../shared/stop.ts";
import { streamErrorMessage } from "./errors.ts";
import type { ChatChunk, ChunkChoice, ToolCallDelta } from "./types.ts";

export interface ConverterOptions {
  /** The model name reported in message_start. */
  model: string;
  /** Estimate until the upstream reports real usage. */
  inputTokens: number;
  /** The request's stop_sequences: atrad finds them in the text (see shared/stop.ts). */
  stopSequences?: string[];
  messageId?: string;
  /** Where the stream comes from, for error messages. */
  label?: string;
  /** Id factory for tool calls the upstream sent without a usable id (tests pin it). */
  newToolId?: () => string;
  /** At most one tool_use (tool_choice.disable_parallel_tool_use). */
  singleToolCall?: boolean;
  /** Keeps the arguments as the server sent them, to send the call back unchanged. */
  remember?: Remember;
}

interface PendingCall {
  id?: string;
  name: string;
  args: string;
  /** Arguments some servers send already parsed. */
  object?: unknown;
}

const TOOL_ID = /^[A-Za-z0-9_-]+$/;

export function mapFinishReason(reason: string | null | undefined): StopReason {
  switch (reason) {
    case "length":
      return "max_tokens";
    case "tool_calls":
    case "function_call":
      return "tool_use";
    case "content_filter":
      return "refusal";
    default:
      return "end_turn";
  }
}

export class StreamConverter implements Converter<string> {
  private started = false;
  private readonly blocks = new ContentBlocks();
  private calls = new Map<number, PendingCall>();
  private lastCallKey = -1;
  private emittedToolUse = false;
  private finishReason: string | null = null;
  private matchedStop: string | null = null;
  private sawDone = false;
  private finished = false;
  private usage: { prompt?: number; completion?: number; cached?: number; timings?: { cache: number; evaluated: number } } = {};
  private generated = "";
  private readonly stops: StopScanner;

  constructor(private readonly opts: ConverterOptions) {
    this.stops = new StopScanner(opts.stopSequences);
  }

  /** True once a stop sequence was met: the rest of the upstream's answer is not read. */
  get done(): boolean {
    return this.stops.matched !== null;
  }

  /** message_start, sent as soon as the upstream answered 200. */
  start(): StreamEvent[] {
    if (this.started) return [];
    this.started = true;
    const message = emptyMessage(this.opts.model, this.opts.messageId ?? newMessageId(), this.opts.inputTokens);
    return [{ type: "message_start", message }];
  }

  /** One SSE `data:` payload: a JSON chunk, or the `[DONE]` sentinel. */
  push(data: string): StreamEvent[] {
    const trimmed = data.trim();
    if (trimmed === "[DONE]") {
      this.sawDone = true;
      return [];
    }
    if (trimmed === "") return [];
    let chunk: unknown;
    try {
      chunk = JSON.parse(trimmed);
    } catch {
      throw new AtradError("api_error", `${this.opts.label ?? "upstream"} sent a stream chunk that is not JSON: ${trimmed.slice(0, 200)}`);
    }
    if (!chunk || typeof chunk !== "object") throw new AtradError("api_error", `${this.opts.label ?? "upstream"} sent an unexpected stream chunk: ${trimmed.slice(0, 200)}`);
    return this.pushChunk(chunk as ChatChunk);
  }

  /** One parsed chunk (or a whole chat.completion from a server that ignored `stream`). */
  pushChunk(chunk: ChatChunk): StreamEvent[] {
    const out = this.start();
    if (this.done) return out;
    if (chunk.error !== undefined && chunk.error !== null) {
      // vLLM and others report a failure after the 200 as a chunk carrying `error`.
      const { status, message } = streamErrorMessage(chunk.error);
      throw new AtradError(status ? errorTypeForStatus(status) : "api_error", `${this.opts.label ?? "upstream"} failed mid-response: ${message}`);
    }
    if (chunk.usage) {
      const u = chunk.usage;
      if (typeof u.prompt_tokens === "number") this.usage.prompt = u.prompt_tokens;
      if (typeof u.completion_tokens === "number") this.usage.completion = u.completion_tokens;
      const cached = u.prompt_tokens_details?.cached_tokens;
      if (typeof cached === "number") this.usage.cached = cached;
    }
    const t = chunk.timings;
    if (t && typeof t.cache_n === "number" && typeof t.prompt_n === "number") this.usage.timings = { cache: t.cache_n, evaluated: t.prompt_n };
    // n = 1: only the first choice exists.
    const choice: ChunkChoice | undefined = chunk.choices?.find((c) => (c.index ?? 0) === 0);
    if (!choice) return out;
    const delta = choice.delta ?? choice.message ?? {};
    const reasoning = delta.reasoning ?? delta.reasoning_content;
    if (typeof reasoning === "string" && reasoning !== "") out.push(...this.appendText("thinking", reasoning));
    if (typeof delta.content === "string" && delta.content !== "") out.push(...this.appendText("text", delta.content));
    if (Array.isArray(delta.tool_calls) && delta.tool_calls.length) {
      out.push(...this.blocks.close());
      for (const tc of delta.tool_calls) this.addToolDelta(tc);
    }
    if (choice.finish_reason) {
      this.finishReason = choice.finish_reason;
      if (typeof choice.stop_reason === "string" && this.opts.stopSequences?.includes(choice.stop_reason)) this.matchedStop = choice.stop_reason;
    }
    return out;
  }

  /** The upstream said `[DONE]` (also accepted through push). */
  sawEnd(): void {
    this.sawDone = true;
  }

  /**
   * Close everything. Throws when the upstream stopped without finish_reason or [DONE]: a
   * server that dies mid-generation just closes the connection, and the client must hear it.
   */
  end(): StreamEvent[] {
    if (this.finished) return [];
    if (!this.finishReason && !this.sawDone) {
      throw new AtradError("api_error", `${this.opts.label ?? "upstream"} ended the stream mid-response (no finish_reason, no [DONE])`);
    }
    this.finished = true;
    const out = this.start();
    const held = this.stops.end();
    if (held) out.push(...this.emitText("text", held));
    out.push(...this.blocks.close(), ...this.flushCalls());
    let stop: StopReason = mapFinishReason(this.finishReason);
    if (stop !== "max_tokens") stop = this.emittedToolUse ? "tool_use" : stop === "tool_use" ? "end_turn" : stop;
    const stopSequence = stop === "end_turn" && this.matchedStop !== null ? this.matchedStop : null;
    if (stopSequence !== null) stop = "stop_sequence";
    const usage: Partial<Usage> = { output_tokens: this.usage.completion ?? estimateTokens(this.generated) };
    // The server's own cache figures, in Anthropic's split (see shared/usage.ts).
    const { prompt, cached, timings } = this.usage;
    if (cached === undefined && timings) Object.assign(usage, fromTimings(timings.cache, timings.evaluated));
    else if (prompt !== undefined) Object.assign(usage, fromTotal(prompt, cached));
    out.push({ type: "message_delta", delta: { stop_reason: stop, stop_sequence: stopSequence }, usage });
    out.push({ type: "message_stop" });
    return out;
  }

  private appendText(type: TextualType, text: string): StreamEvent[] {
    if (type !== "text") return this.emitText(type, text);
    const before = this.stops.push(text);
    if (this.stops.matched !== null) {
      // Met a stop sequence: the answer ends here, whatever the upstream would still send.
      this.finishReason = "stop";
      this.matchedStop = this.stops.matched;
    }
    return before ? this.emitText(type, before) : [];
  }

  private emitText(type: TextualType, text: string): StreamEvent[] {
    this.generated += text;
    // Pending tool calls come before the next text: the model wrote them first.
    const before = this.blocks.openType !== type ? [...this.blocks.close(), ...this.flushCalls()] : [];
    return [...before, ...this.blocks.delta(type, text)];
  }

  private addToolDelta(tc: ToolCallDelta): void {
    // Servers without `index` (a few llama.cpp builds): a new id starts a new call.
    let key = typeof tc.index === "number" ? tc.index : this.lastCallKey;
    if (typeof tc.index !== "number" && (key < 0 || (tc.id && this.calls.get(key)?.id && this.calls.get(key)!.id !== tc.id))) key = this.lastCallKey + 1;
    this.lastCallKey = Math.max(this.lastCallKey, key);
    let call = this.calls.get(key);
    if (!call) {
      call = { name: "", args: "" };
      this.calls.set(key, call);
    }
    if (tc.id) call.id = tc.id;
    // The name comes once (OpenAI) or repeated in every fragment (some servers): never doubled.
    const name = tc.function?.name;
    if (name && name !== call.name) call.name = call.name ? call.name + name : name;
    const args = tc.function?.arguments;
    if (typeof args === "string") call.args += args;
    else if (args !== undefined && args !== null) call.object = args;
  }

  private flushCalls(): StreamEvent[] {
    const out: StreamEvent[] = [];
    const keys = [...this.calls.keys()].sort((a, b) => a - b);
    for (const key of keys) {
      const call = this.calls.get(key)!;
      const raw = call.object ?? call.args;
      this.generated += call.name + call.args;
      const repaired = call.name ? repairToolArguments(raw) : { ok: false as const, reason: "the call has no tool name" };
      if (repaired.ok) {
        // disable_parallel_tool_use: servers that ignore parallel_tool_calls still get one call.
        if (this.emittedToolUse && this.opts.singleToolCall) continue;
        const id = call.id && TOOL_ID.test(call.id) ? call.id : (this.opts.newToolId ?? newToolUseId)();
        if (this.opts.remember && typeof raw === "string" && asWritten(raw, repaired.input)) this.opts.remember(id, repaired.input, raw);
        out.push(...this.blocks.toolUse(id, call.name, repaired.input));
        this.emittedToolUse = true;
      } else {
        // Never a tool_use whose input is not an object: tell the user what the model tried.
        out.push(...this.blocks.textBlock(unusableToolCallText(call.name, raw, repaired.reason)));
      }
    }
    this.calls.clear();
    return out;
  }
}

/** The arguments are the input as it stands (not repaired into it): safe to send back as they are. */
function asWritten(raw: string, input: Record<string, unknown>): boolean {
  try {
    const parsed = JSON.parse(raw) as unknown;
    return isObject(parsed) && sameInput(parsed, input) && sameInput(input, parsed);
  } catch {
    return false;
  }
}
