/**
 * Prompt-based tools around any event stream (pure, stateful): text deltas go through the
 * PromptToolParser, calls become `tool_use` blocks, block indexes are renumbered, and the
 * stop reason becomes `tool_use` once a call was made (the upstream only ever says it stopped).
 */
import type { Converter } from "../../anthropic/converter.ts";
import { ContentBlocks, newToolUseId } from "../../anthropic/content-blocks.ts";
import type { StopReason, StreamEvent } from "../../anthropic/types.ts";
import type { Remember } from "../shared/raw-calls.ts";
import { PromptToolParser, type Segment } from "./parser.ts";

export class PromptToolsStream implements Converter<StreamEvent> {
  private readonly parser: PromptToolParser;
  private readonly blocks = new ContentBlocks();
  /** Upstream index → our index, for blocks passed through (thinking, native tool_use). */
  private passthrough = new Map<number, number>();
  private textBlocks = new Set<number>();
  private calls = 0;
  private readonly newToolId: () => string;

  constructor(
    tools: string[],
    newToolId?: () => string,
    /** At most one tool_use (tool_choice.disable_parallel_tool_use): later calls are dropped. */
    private readonly singleToolCall = false,
    /** Keeps each call's text as the model wrote it, to send the model's turn back unchanged. */
    private readonly remember?: Remember,
  ) {
    this.parser = new PromptToolParser(tools);
    this.newToolId = newToolId ?? newToolUseId;
  }

  /** The inner stream's message_start passes through push like every other event. */
  start(): StreamEvent[] {
    return [];
  }

  end(): StreamEvent[] {
    return this.flush();
  }

  push(event: StreamEvent): StreamEvent[] {
    switch (event.type) {
      case "content_block_start": {
        if (event.content_block.type === "text") {
          this.textBlocks.add(event.index);
          const text = String((event.content_block as { text?: unknown }).text ?? "");
          return text ? this.segments(this.parser.feed(text)) : [];
        }
        const out = this.flush();
        const { index, closed } = this.blocks.reserve();
        out.push(...closed);
        this.passthrough.set(event.index, index);
        if (event.content_block.type === "tool_use") this.calls++;
        return [...out, { ...event, index }];
      }
      case "content_block_delta": {
        if (this.textBlocks.has(event.index)) {
          const d = event.delta as { type: string; text?: string };
          return d.type === "text_delta" && d.text ? this.segments(this.parser.feed(d.text)) : [];
        }
        const index = this.passthrough.get(event.index);
        return index === undefined ? [] : [{ ...event, index }];
      }
      case "content_block_stop": {
        // A text block ending does not end a call that may still be open: text resumes in the
        // next text block only if the upstream interleaves thinking, and the flush happens then.
        if (this.textBlocks.has(event.index)) return [];
        const index = this.passthrough.get(event.index);
        return index === undefined ? [] : [{ ...event, index }];
      }
      case "message_delta": {
        const out = this.flush();
        if (this.calls > 0) {
          const delta = { ...event.delta, stop_reason: "tool_use" as StopReason, stop_sequence: null };
          return [...out, { ...event, delta }];
        }
        return [...out, event];
      }
      case "error":
        return [...this.flush(), event];
      default:
        return [event];
    }
  }

  /** End of the model's text: whatever the parser held is decided now. */
  private flush(): StreamEvent[] {
    const out = this.segments(this.parser.end());
    out.push(...this.blocks.close());
    return out;
  }

  private segments(segs: Segment[]): StreamEvent[] {
    const out: StreamEvent[] = [];
    for (const s of segs) {
      if (s.type === "text") {
        if (s.text) out.push(...this.blocks.delta("text", s.text));
      } else if (!(this.singleToolCall && this.calls > 0)) {
        this.calls++;
        const id = this.newToolId();
        if (s.raw !== undefined) this.remember?.(id, s.input, s.raw);
        out.push(...this.blocks.toolUse(id, s.name, s.input));
      }
    }
    return out;
  }
}
