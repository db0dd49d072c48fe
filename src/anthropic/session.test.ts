import { expect, test } from "bun:test";
import fixture from "../../test/fixtures/claude-code-2.1.330-request.json";
import { sessionIdOf } from "./session.ts";

test.each([
  ["Header_Wins", { "x-claude-code-session-id": "h1" }, { user_id: JSON.stringify({ session_id: "m1" }) }, "h1"],
  ["MetadataUserIdJson", {}, { user_id: JSON.stringify({ device_id: "d", session_id: "m1" }) }, "m1"],
  ["MetadataNotJson", {}, { user_id: "plain-user" }, null],
  ["Nothing", {}, undefined, null],
])("SessionId_%s", (_n, headers, metadata, want) => {
  expect(sessionIdOf(new Headers(headers), metadata)).toBe(want);
});

test("SessionId_RealClaudeCodeRequest", () => {
  expect(sessionIdOf(new Headers(fixture.headers), fixture.body.metadata)).toBe(fixture.headers["x-claude-code-session-id"]);
  expect(sessionIdOf(new Headers(), fixture.body.metadata)).toBe(fixture.headers["x-claude-code-session-id"]);
});
