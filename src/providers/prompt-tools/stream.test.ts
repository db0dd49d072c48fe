import { describe, expect, test } from "bun:test";
import type { StreamEvent } from "../../anthropic/types.ts";
import { PromptToolsStream } from "./stream.ts";

const start = (index: number, type: string): StreamEvent => ({ type: "content_block_start", index, content_block: type === "text" ? { type: "text", text: "" } : { type: "thinking", thinking: "" } });
const text = (index: number, t: string): StreamEvent => ({ type: "content_block_delta", index, delta: { type: "text_delta", text: t } });
const think = (index: number, t: string): StreamEvent => ({ type: "content_block_delta", index, delta: { type: "thinking_delta", thinking: t } });
const stop = (index: number): StreamEvent => ({ type: "content_block_stop", index });
const end = (reason: "end_turn" | "max_tokens"): StreamEvent[] => [{ type: "message_delta", delta: { stop_reason: reason }, usage: { output_tokens: 5 } }, { type: "message_stop" }];

function run(events: StreamEvent[]): string[] {
  let n = 0;
  const s = new PromptToolsStream(["Read"], () => `toolu_${++n}`);
  return events.flatMap((e) => s.push(e)).map((e) => {
    if (e.type === "content_block_start") return `start[${e.index}] ${e.content_block.type}`;
    if (e.type === "content_block_delta") return `delta[${e.index}] ${(e.delta as any).text ?? (e.delta as any).thinking ?? (e.delta as any).partial_json}`;
    if (e.type === "content_block_stop") return `stop[${e.index}]`;
    if (e.type === "message_delta") return `message_delta ${e.delta.stop_reason}`;
    return e.type;
  });
}

const call = '<tool_call>{"name":"Read","arguments":{"path":"/a"}}</tool_call>';
const cases: Array<{ name: string; events: StreamEvent[]; want: string[] }> = [
  {
    name: "PromptToolsStream_TextOnlyUnchanged",
    events: [start(0, "text"), text(0, "a\n"), text(0, "  b"), stop(0), ...end("end_turn")],
    want: ["start[0] text", "delta[0] a", "delta[0] \n  b", "stop[0]", "message_delta end_turn", "message_stop"],
  },
  {
    name: "PromptToolsStream_ThinkingThenCallReindexed",
    events: [start(0, "thinking"), think(0, "hm"), stop(0), start(1, "text"), text(1, "Ok.\n<tool_"), text(1, call.slice(6)), stop(1), ...end("end_turn")],
    want: ["start[0] thinking", "delta[0] hm", "stop[0]", "start[1] text", "delta[1] Ok.", "stop[1]", "start[2] tool_use", 'delta[2] {"path":"/a"}', "stop[2]", "message_delta tool_use", "message_stop"],
  },
  {
    name: "PromptToolsStream_CallOnlyNoEmptyTextBlock",
    events: [start(0, "text"), text(0, call), stop(0), ...end("end_turn")],
    want: ["start[0] tool_use", 'delta[0] {"path":"/a"}', "stop[0]", "message_delta tool_use", "message_stop"],
  },
  {
    name: "PromptToolsStream_MaxTokensMidCallExplained",
    events: [start(0, "text"), text(0, '<tool_call>{"name":"Read","arguments":{"path":"/ve'), ...end("max_tokens")],
    want: ["start[0] text", expect.stringContaining("cut off inside a string") as never, "stop[0]", "message_delta max_tokens", "message_stop"],
  },
  {
    name: "PromptToolsStream_ErrorFlushesHeldText",
    events: [start(0, "text"), text(0, "see <"), { type: "error", error: { type: "api_error", message: "boom" } }],
    want: ["start[0] text", "delta[0] see", "delta[0]  <", "stop[0]", "error"],
  },
];

describe("PromptToolsStream", () => {
  for (const c of cases) test(c.name, () => expect(run(c.events)).toEqual(c.want));
});
