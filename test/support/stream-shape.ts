/**
 * The shape every Anthropic event stream a client receives must have, checked independently of
 * atrad's own stream guard: one checker for unit, golden, socket and fault tests.
 */
import type { StreamEvent } from "../../src/anthropic/types.ts";

const DELTA_FOR: Record<string, string[]> = {
  text: ["text_delta"],
  thinking: ["thinking_delta", "signature_delta"],
  tool_use: ["input_json_delta"],
};

/**
 * Problems with a stream a client may receive: message_start first; blocks
 * opened in index order from 0, one at a time, deltas only into the open block and of its
 * kind, closed with a matching stop; then message_delta + message_stop, or an `error` event
 * (anywhere after which nothing follows). An empty list means well-formed.
 */
export function wellFormedProblems(events: StreamEvent[]): string[] {
  const problems: string[] = [];
  const seq = events.filter((e) => e.type !== "ping");
  if (!seq.length) return ["no events"];
  const last = seq.at(-1)!;
  if (last.type !== "message_stop" && last.type !== "error") problems.push(`last event is ${last.type}, not message_stop or error`);
  if (seq[0]!.type !== "message_start" && seq[0]!.type !== "error") problems.push(`first event is ${seq[0]!.type}, not message_start`);
  let open: { index: number; type: string } | undefined;
  let next = 0;
  let sawDelta = false;
  for (const [i, e] of seq.entries()) {
    if ((e.type === "message_stop" || e.type === "error") && i !== seq.length - 1) problems.push(`${e.type} at ${i} is not last`);
    switch (e.type) {
      case "message_start":
        if (i !== 0) problems.push(`message_start at ${i}`);
        break;
      case "content_block_start":
        if (open) problems.push(`block ${e.index} opened while ${open.index} is open`);
        if (e.index !== next) problems.push(`block index ${e.index}, expected ${next}`);
        if (sawDelta) problems.push(`block ${e.index} after message_delta`);
        open = { index: e.index, type: e.content_block.type };
        next = e.index + 1;
        if (e.content_block.type === "tool_use") {
          const b = e.content_block as { id?: unknown; name?: unknown };
          if (typeof b.id !== "string" || !b.id) problems.push(`tool_use block ${e.index} without id`);
          if (typeof b.name !== "string" || !b.name) problems.push(`tool_use block ${e.index} without name`);
        }
        break;
      case "content_block_delta":
        if (!open || open.index !== e.index) problems.push(`delta for block ${e.index} which is not open`);
        else if (!(DELTA_FOR[open.type] ?? []).includes(e.delta.type)) problems.push(`${e.delta.type} into a ${open.type} block`);
        break;
      case "content_block_stop":
        if (!open || open.index !== e.index) problems.push(`stop for block ${e.index} which is not open`);
        open = undefined;
        break;
      case "message_delta":
        if (open) problems.push(`message_delta while block ${open.index} is open`);
        if (sawDelta) problems.push("second message_delta");
        sawDelta = true;
        break;
      case "message_stop":
        if (!sawDelta) problems.push("message_stop without message_delta");
        break;
      case "error":
        if (typeof e.error?.type !== "string" || typeof e.error?.message !== "string") problems.push("error event without type/message");
        break;
    }
  }
  // A finished tool_use block's input must parse as a JSON object.
  const json = new Map<number, string>();
  for (const e of seq) {
    if (e.type === "content_block_delta" && e.delta.type === "input_json_delta") json.set(e.index, (json.get(e.index) ?? "") + String((e.delta as { partial_json: string }).partial_json));
    if (e.type === "content_block_stop" && json.has(e.index)) {
      try {
        const v = JSON.parse(json.get(e.index)!);
        if (!v || typeof v !== "object" || Array.isArray(v)) problems.push(`tool_use ${e.index} input is not an object`);
      } catch {
        problems.push(`tool_use ${e.index} input is not JSON`);
      }
    }
  }
  return problems;
}

/** Problems with a stream that must have finished: well-formed, and ending in message_stop (no error). */
export function streamProblems(events: StreamEvent[]): string[] {
  const problems = wellFormedProblems(events);
  const last = events.filter((e) => e.type !== "ping").at(-1);
  if (last?.type === "error") problems.push(`error event: ${last.error.message}`);
  return problems;
}
