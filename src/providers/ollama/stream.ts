/**
 * Ollama `/api/chat` NDJSON → Anthropic events (pure, stateful, no I/O). Feed raw text as it
 * arrives, one NDJSON line per `push`. Facts it relies on (Ollama's api.md and
 * the ATRA MLX server's source): each line is one ChatResponse; `message.thinking` and
 * `message.content` carry deltas; `tool_calls` arrive whole with `arguments` as an object;
 * `done_reason` is `stop` even when tools were called; the last line (`done: true`) carries
 * `prompt_eval_count`/`eval_count`, which the ATRA MLX server omits; a failure after the 200
 * is one `{"error": "..."}` line.
 */
import type { Converter } from "../../anthropic/converter.ts";
import { AtradError } from "../../anthropic/errors.ts";
import { ContentBlocks, newToolUseId, type TextualType } from "../../anthropic/content-blocks.ts";
import { emptyMessage, type StopReason, type StreamEvent } from "../../anthropic/types.ts";
import { estimateTokens } from "../../tokens/count.ts";
import { fromEvaluated } from "../shared/usage.ts";
import { repairToolArguments, unusableToolCallText } from "../shared/repair.ts";
import type { Remember } from "../shared/raw-calls.ts";
import { StopScanner } from "../shared/stop.ts";

export interface OllamaChunk {
  model?: string;
  message?: { role?: string; content?: string; thinking?: string; tool_calls?: Array<{ id?: string; function?: { name?: string; arguments?: unknown } }> };
  done?: boolean;
  done_reason?: string;
  prompt_eval_count?: number;
  eval_count?: number;
  error?: string | { message?: string };
}

export interface ConverterOptions {
  model: string;
  /** Estimated prompt tokens, used until (or unless) the upstream reports prompt_eval_count. */
  inputTokens: number;
  messageId?: string;
  /** Tool-use ids; injectable so golden fixtures are deterministic. */
  newToolId?: () => string;
  /** At most one tool_use (tool_choice.disable_parallel_tool_use). */
  singleToolCall?: boolean;
  /** The request's stop_sequences: atrad finds them in the text (see shared/stop.ts). */
  stopSequences?: string[];
  /** Keeps each call's arguments as Ollama sent them, to send the call back unchanged. */
  remember?: Remember;
}

export class OllamaStreamConverter implements Converter<string> {
  private readonly blocks = new ContentBlocks();
  private sawToolCall = false;
  private finished = false;
  private outputText = "";
  private readonly newToolId: () => string;
  private readonly stops: StopScanner;

  constructor(private readonly opts: ConverterOptions) {
    this.newToolId = opts.newToolId ?? newToolUseId;
    this.stops = new StopScanner(opts.stopSequences);
  }

  /** The `message_start` sent as soon as the upstream answered 200. */
  start(): StreamEvent[] {
    return [{ type: "message_start", message: emptyMessage(this.opts.model, this.opts.messageId, this.opts.inputTokens) }];
  }

  /** One NDJSON line in (framing is src/wire/ndjson.ts's job), its events out. */
  push(line: string): StreamEvent[] {
    return this.line(line);
  }

  /** The upstream closed. */
  end(): StreamEvent[] {
    return [];
  }

  get done(): boolean {
    return this.finished;
  }

  private line(line: string): StreamEvent[] {
    if (this.finished || !line.trim()) return [];
    let chunk: OllamaChunk;
    try {
      chunk = JSON.parse(line) as OllamaChunk;
    } catch {
      this.finished = true;
      throw new AtradError("api_error", `upstream sent a line that is not JSON: ${line.slice(0, 200)}`);
    }
    return this.chunk(chunk);
  }

  /** One parsed ChatResponse object in, events out. */
  chunk(chunk: OllamaChunk): StreamEvent[] {
    if (this.finished) return [];
    const out: StreamEvent[] = [];
    if (chunk.error !== undefined) {
      this.finished = true;
      const message = typeof chunk.error === "string" ? chunk.error : (chunk.error?.message ?? JSON.stringify(chunk.error));
      throw new AtradError("api_error", `upstream error: ${message}`);
    }
    const m = chunk.message;
    if (m?.thinking) out.push(...this.delta("thinking", m.thinking));
    if (m?.content) out.push(...this.delta("text", m.content));
    if (this.finished) return out;
    for (const call of m?.tool_calls ?? []) out.push(...this.toolCall(call));
    if (chunk.done) out.push(...this.finish(chunk));
    return out;
  }

  private delta(type: TextualType, text: string): StreamEvent[] {
    if (type === "text") {
      text = this.stops.push(text);
      if (this.stops.matched !== null) {
        // Met a stop sequence: the answer ends here, whatever Ollama would still send.
        const out = text ? this.emit(type, text) : [];
        return [...out, ...this.close({ stop_reason: "stop_sequence", stop_sequence: this.stops.matched }, undefined)];
      }
      if (!text) return [];
    }
    return this.emit(type, text);
  }

  private emit(type: TextualType, text: string): StreamEvent[] {
    this.outputText += text;
    return this.blocks.delta(type, text);
  }

  private toolCall(call: NonNullable<NonNullable<OllamaChunk["message"]>["tool_calls"]>[number]): StreamEvent[] {
    const name = call.function?.name ?? "";
    const args = repairToolArguments(call.function?.arguments);
    if (!name || !args.ok) {
      // Never a tool_use the client cannot run: say what the model attempted, as text.
      const why = !name ? "it has no tool name" : args.ok ? "" : args.reason;
      return [...this.blocks.close(), ...this.delta("text", `\n${unusableToolCallText(name, call.function?.arguments ?? null, why)}\n`), ...this.blocks.close()];
    }
    // disable_parallel_tool_use: the model was told; a second call is dropped all the same.
    if (this.sawToolCall && this.opts.singleToolCall) return [];
    this.sawToolCall = true;
    this.outputText += name + JSON.stringify(args.input);
    const id = call.id || this.newToolId();
    // The arguments in the model's key order, for the call's way back (see shared/raw-calls).
    this.opts.remember?.(id, args.input, JSON.stringify(args.input));
    return this.blocks.toolUse(id, name, args.input);
  }

  private finish(chunk: OllamaChunk): StreamEvent[] {
    const held = this.stops.end();
    const out = held ? this.emit("text", held) : [];
    const stop: StopReason = this.sawToolCall ? "tool_use" : chunk.done_reason === "length" ? "max_tokens" : "end_turn";
    return [...out, ...this.close({ stop_reason: stop, stop_sequence: null }, chunk)];
  }

  private close(delta: { stop_reason: StopReason; stop_sequence: string | null }, chunk: OllamaChunk | undefined): StreamEvent[] {
    this.finished = true;
    if (this.sawToolCall) delta = { stop_reason: "tool_use", stop_sequence: null };
    // Counts may be missing (ATRA MLX, or a stop sequence cut the answer short): estimate
    // rather than report 0, which makes Claude Code believe the context is empty.
    // prompt_eval_count leaves out the prefix served from the runner's cache (shared/usage.ts).
    const evaluated = chunk?.prompt_eval_count;
    const prompt = typeof evaluated === "number" ? fromEvaluated(evaluated, this.opts.inputTokens) : { input_tokens: this.opts.inputTokens };
    const usage = { ...prompt, output_tokens: chunk?.eval_count ?? estimateTokens(this.outputText) };
    return [...this.blocks.close(), { type: "message_delta", delta, usage }, { type: "message_stop" }];
  }
}
