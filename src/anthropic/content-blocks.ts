/**
 * The content-block bookkeeping every stream converter needs: block indices, the one open
 * text or thinking block, and whole `tool_use` blocks (start + one `input_json_delta` + stop,
 * the shape Ollama itself streams). Pure; converters keep their protocol logic, this keeps
 * the Anthropic framing right in one place.
 */
import type { StreamEvent } from "./types.ts";

export type TextKind = "text" | "thinking";

export const newToolUseId = () => `toolu_${crypto.randomUUID().replaceAll("-", "").slice(0, 24)}`;

export class ContentBlocks {
  private next = 0;
  private open: { kind: TextKind; index: number } | undefined;

  /** The kind of the block now open, if any. */
  get openKind(): TextKind | undefined {
    return this.open?.kind;
  }

  /** Append to the open block of this kind, closing another kind first and opening as needed. */
  delta(kind: TextKind, text: string): StreamEvent[] {
    const out: StreamEvent[] = [];
    if (this.open?.kind !== kind) {
      out.push(...this.close());
      this.open = { kind, index: this.next++ };
      out.push({ type: "content_block_start", index: this.open.index, content_block: kind === "text" ? { type: "text", text: "" } : { type: "thinking", thinking: "" } });
    }
    const index = this.open.index;
    out.push({ type: "content_block_delta", index, delta: kind === "text" ? { type: "text_delta", text } : { type: "thinking_delta", thinking: text } });
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
