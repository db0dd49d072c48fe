/**
 * The shape every Anthropic event stream must have (DESIGN §4.1): message_start first, blocks
 * opened and closed in order with one open at a time, deltas only into the open block and of
 * its kind, then message_delta and message_stop last. Used by unit, golden and socket tests.
 */
import type { StreamEvent } from "../../../src/anthropic/types.ts";

const DELTA_FOR: Record<string, string> = { text: "text_delta", thinking: "thinking_delta", tool_use: "input_json_delta" };

/** Returns the problems found; an empty list means well-formed. */
export function streamProblems(events: StreamEvent[]): string[] {
  const problems: string[] = [];
  const seq = events.filter((e) => e.type !== "ping");
  if (seq[0]?.type !== "message_start") problems.push(`first event is ${seq[0]?.type}, not message_start`);
  if (seq.at(-1)?.type !== "message_stop") problems.push(`last event is ${seq.at(-1)?.type}, not message_stop`);
  if (seq.at(-2)?.type !== "message_delta") problems.push(`event before the last is ${seq.at(-2)?.type}, not message_delta`);
  let open: { index: number; type: string } | undefined;
  let next = 0;
  for (const [i, e] of seq.entries()) {
    if (e.type === "message_start" && i !== 0) problems.push(`message_start at ${i}`);
    if (e.type === "content_block_start") {
      if (open) problems.push(`block ${e.index} opened while ${open.index} is open`);
      if (e.index !== next) problems.push(`block index ${e.index}, expected ${next}`);
      open = { index: e.index, type: e.content_block.type };
      next = e.index + 1;
    } else if (e.type === "content_block_delta") {
      if (!open || open.index !== e.index) problems.push(`delta for block ${e.index} which is not open`);
      else if (DELTA_FOR[open.type] !== e.delta.type) problems.push(`${e.delta.type} into a ${open.type} block`);
    } else if (e.type === "content_block_stop") {
      if (!open || open.index !== e.index) problems.push(`stop for block ${e.index} which is not open`);
      open = undefined;
    } else if (e.type === "message_delta" && open) problems.push(`message_delta while block ${open.index} is open`);
    if (e.type === "error") problems.push(`error event: ${e.error.message}`);
  }
  return problems;
}
