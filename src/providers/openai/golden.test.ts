/**
 * Golden whole-exchange fixtures for the `openai` kind (in testdata/). Requests: an Anthropic
 * request (the captured Claude Code one among them) → the exact upstream chat-completions
 * body. Streams: a recorded upstream SSE body → the exact Anthropic events a client receives
 * (through the gateway's guardStream, so a cut stream ends in its `error` event).
 * UPDATE_GOLDEN=1 rewrites the expected files; review the diff before committing it.
 */
import { describe, expect, test } from "bun:test";
import { normalise } from "../../anthropic/normalise.ts";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseSse } from "../../wire/sse.ts";
import { guardStream } from "../../anthropic/stream.ts";
import type { StreamEvent } from "../../anthropic/types.ts";
import { toChatRequest } from "./request.ts";
import { StreamConverter } from "./stream.ts";
import { CLAUDE_CODE_REQUEST, expectGolden } from "../../../test/support/golden.ts";
import { streamProblems } from "../../../test/support/stream-shape.ts";

const DIR = join(import.meta.dir, "testdata");
const golden = (file: string, actual: unknown) => expectGolden(DIR, file, actual);

const requests: Array<[string, string]> = [
  ["claude-code-2.1.330", CLAUDE_CODE_REQUEST],
  ["tool-history", join(DIR, "tool-history.request.json")],
];

describe("golden requests: Anthropic → OpenAI chat completions", () => {
  for (const [name, path] of requests) {
    test(`Golden_Request_${name}`, () => {
      const raw = JSON.parse(readFileSync(path, "utf8"));
      const body = raw.body ?? raw;
      golden(`${name}.upstream.json`, toChatRequest(normalise(body), "qwen2.5-coder:32b"));
    });
  }
});

async function* replay(sse: string): AsyncGenerator<StreamEvent> {
  let ids = 0;
  const c = new StreamConverter({ model: "qwen2.5-coder:32b", inputTokens: 100, messageId: "msg_golden", label: "golden/qwen", newToolId: () => `toolu_golden${++ids}` });
  yield* c.start();
  for await (const m of parseSse(new Blob([sse]).stream())) yield* c.push(m.data);
  yield* c.end();
}

describe("golden streams: OpenAI SSE → Anthropic events", () => {
  for (const file of readdirSync(DIR).filter((f) => f.endsWith(".sse")).sort()) {
    test(`Golden_Stream_${file.replace(/\.sse$/, "")}`, async () => {
      const events: StreamEvent[] = [];
      for await (const e of guardStream(replay(readFileSync(join(DIR, file), "utf8")), "golden/qwen")) events.push(e);
      golden(file.replace(/\.sse$/, ".events.json"), events);
      if (!file.startsWith("cut-")) expect(streamProblems(events)).toEqual([]);
      else expect(events.at(-1)!.type).toBe("error");
    });
  }
});
