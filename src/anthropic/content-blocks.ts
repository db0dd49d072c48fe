/**
 * The content-block bookkeeping every stream converter needs: block indices, the one open
 * text or thinking block, and whole `tool_use` blocks (start + one `input_json_delta` + stop,
 * the shape Ollama itself streams). Pure; converters keep their protocol logic, this keeps
 * the Anthropic framing right in one place.
 */
import type { ResponseBlock, StreamEvent } from "./types.ts";

/** The block types that stream as deltas of text. */
export type TextualType = "text" | "thinking";

export const newToolUseId = () => `toolu_${crypto.randomUUID().replaceAll("-", "").slice(0, 24)}`;

/** A thinking block always carries a signature: clients' types declare it a string. */
const START = {
  text: { type: "text", text: "" },
  thinking: { type: "thinking", thinking: "", signature: "" },
} as const satisfies Record<TextualType, ResponseBlock>;

export class ContentBlocks {
  private next = 0;
  private open: { type: TextualType; index: number } | undefined;

  /** The type of the block now open, if any. */
  get openType(): TextualType | undefined {
    return this.open?.type;
  }

  /** Append to the open block of this type, closing another first and opening as needed. */
  delta(type: TextualType, text: string): StreamEvent[] {
    const out: StreamEvent[] = [];
    if (this.open?.type !== type) {
      out.push(...this.close());
      this.open = { type, index: this.next++ };
      out.push({ type: "content_block_start", index: this.open.index, content_block: { ...START[type] } });
    }
    const index = this.open.index;
    out.push({ type: "content_block_delta", index, delta: type === "text" ? { type: "text_delta", text } : { type: "thinking_delta", thinking: text } });
    return out;
  }

  /** A whole tool_use block; whatever was open is closed first. */
  toolUse(id: string, name: string, input: Record<string, unknown>): StreamEvent[] {
    const out = this.close();
    const index = this.next++;
    out.push(
      { type: "content_block_start", index, content_block: { type: "tool_use", id, name, input: {} } },
      { type: "content_block_delta", index, delta: { type: "input_json_delta", partial_json: JSON.stringify(input) } },
      { type: "content_block_stop", index },
    );
    return out;
  }

  /** A whole text block of its own (e.g. the explanation of an unusable tool call). */
  textBlock(text: string): StreamEvent[] {
    return [...this.close(), ...this.delta("text", text), ...this.close()];
  }

  /** An index for a block the caller relays itself (closing what was open: the events to send first). */
  reserve(): { index: number; closed: StreamEvent[] } {
    const closed = this.close();
    return { index: this.next++, closed };
  }

  close(): StreamEvent[] {
    if (!this.open) return [];
    const index = this.open.index;
    this.open = undefined;
    return [{ type: "content_block_stop", index }];
  }
}
