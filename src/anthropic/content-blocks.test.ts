import { expect, test } from "bun:test";
import { ContentBlocks } from "./content-blocks.ts";

const shape = (events: Array<{ type: string; index?: number }>) => events.map((e) => `${e.type}@${e.index}`);

test("ContentBlocks_ThinkingThenTextThenTool: indices ascend, each block closes before the next", () => {
  const b = new ContentBlocks();
  const events = [...b.delta("thinking", "hm"), ...b.delta("thinking", "m"), ...b.delta("text", "hi"), ...b.toolUse("toolu_1", "Read", { path: "/a" }), ...b.close()];
  expect(shape(events)).toEqual([
    "content_block_start@0", "content_block_delta@0", "content_block_delta@0", "content_block_stop@0",
    "content_block_start@1", "content_block_delta@1", "content_block_stop@1",
    "content_block_start@2", "content_block_delta@2", "content_block_stop@2",
  ]);
  expect(events[8]).toEqual({ type: "content_block_delta", index: 2, delta: { type: "input_json_delta", partial_json: '{"path":"/a"}' } });
});

test("ContentBlocks_TextBlockStandsAlone", () => {
  const b = new ContentBlocks();
  expect(shape([...b.delta("text", "a"), ...b.textBlock("note")])).toEqual([
    "content_block_start@0", "content_block_delta@0", "content_block_stop@0",
    "content_block_start@1", "content_block_delta@1", "content_block_stop@1",
  ]);
  expect(b.openType).toBeUndefined();
});
