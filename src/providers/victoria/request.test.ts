import { describe, expect, test } from "bun:test";
import { normalise, outputInstruction } from "../../anthropic/normalise.ts";
import fixture from "../../../test/fixtures/claude-code-2.1.330-request.json";
import { AtradError } from "../../anthropic/errors.ts";
import type { MessagesRequest } from "../../anthropic/schema.ts";
import { applyPolicy, checkToolChoice, toRunBody } from "./request.ts";

const req = (messages: unknown[], extra: Record<string, unknown> = {}) => ({ model: "victoria", max_tokens: 10, messages, ...extra }) as MessagesRequest;

describe("toRunBody", () => {
  test("Claude Code's real request: whole last user turn and its system note are the goal, system is the context", () => {
    const body = toRunBody(normalise(fixture.body as unknown as MessagesRequest), { projectContext: "keep", sessionId: "s" });
    const user = fixture.body.messages[0]!.content as Array<{ text: string }>;
    const note = (fixture.body.messages[1]!.content as Array<{ text: string }>)[0]!.text;
    expect(body.goal).toBe([...user.map((b) => b.text), `<system-reminder>\n${note}\n</system-reminder>`].join("\n\n"));
    expect(body.chat_history).toBeUndefined();
    expect(body.project_context).not.toContain("x-anthropic-billing-header");
    expect(body.project_context).toContain("You are a Claude agent");
    // The `role: system` message Claude Code puts inside messages stays where it was said.
    expect(body.project_context).not.toContain(note);
    expect(JSON.stringify(body)).not.toContain("defer_loading");
  });

  test("project_context: keep, drop, or the first N characters (never half an emoji)", () => {
    const r = req([{ role: "user", content: "go" }], { system: "ab🚀cd" });
    expect(toRunBody(normalise(r), { projectContext: "keep" }).project_context).toBe("ab🚀cd");
    expect(toRunBody(normalise(r), { projectContext: "drop" }).project_context).toBeUndefined();
    expect(toRunBody(normalise(r), { projectContext: 3 }).project_context).toBe("ab🚀");
    expect(applyPolicy("abc", 0)).toBe("");
  });

  test("an assistant prefill after the goal is said in words, not lost", () => {
    const body = toRunBody(normalise(req([{ role: "user", content: "list" }, { role: "assistant", content: "1." }])), { projectContext: "keep" });
    expect(body.goal).toBe("list\n\n(Continue from this start of the answer:)\n1.");
  });

  test("images: base64 in the goal turn (also inside tool results) are sent; URL and earlier ones are named", () => {
    const img = (data: string) => ({ type: "image", source: { type: "base64", media_type: "image/png", data } });
    const body = toRunBody(normalise(
      req([
        { role: "user", content: [img("OLD"), { type: "text", text: "first" }] },
        { role: "assistant", content: "ok" },
        {
          role: "user",
          content: [
            { type: "tool_result", tool_use_id: "t", content: [img("FROMTOOL")] },
            { type: "image", source: { type: "url", url: "https://x/y.png" } },
            img("NEW"),
          ],
        },
      ])),
      { projectContext: "keep" },
    );
    expect(body.images_base64).toEqual(["FROMTOOL", "NEW"]);
    expect(body.chat_history![0]!.content).toBe("[image (image/png) from an earlier turn]\n\nfirst");
    expect(body.goal).toContain("[image at https://x/y.png]");
  });

  test("veronica style says that images could not be passed", () => {
    const body = toRunBody(normalise(req([{ role: "user", content: [{ type: "image", source: { type: "base64", media_type: "image/png", data: "A" } }] }])), {
      projectContext: "keep",
      maxSteps: 5,
    });
    expect(body).toEqual({ goal: "[image 1 attached (image/png)]\n\n(1 attached image(s) could not be passed on: this provider takes no images.)", max_steps: 5 });
  });

  test("no user turn, or an empty one, is a 400", () => {
    for (const messages of [[{ role: "assistant", content: "x" }], [{ role: "user", content: "  " }]]) {
      const err = (() => {
        try {
          toRunBody(normalise(req(messages)), { projectContext: "keep" });
        } catch (e) {
          return e;
        }
      })();
      expect(err).toBeInstanceOf(AtradError);
      expect((err as AtradError).status).toBe(400);
    }
  });
});

describe("checkToolChoice", () => {
  test("auto and none pass; any and tool are refused with a reason", () => {
    expect(() => checkToolChoice(req([], { tool_choice: { type: "auto" } }))).not.toThrow();
    expect(() => checkToolChoice(req([], { tool_choice: { type: "none" } }))).not.toThrow();
    expect(() => checkToolChoice(req([], { tool_choice: { type: "any" } }))).toThrow("Victoria cannot call tools");
    expect(() => checkToolChoice(req([], { tool_choice: { type: "tool", name: "Bash" } }))).toThrow('the tool "Bash"');
  });

  test("structured output: the schema is an instruction at the end of the goal", () => {
    const body = toRunBody(normalise(req([{ role: "user", content: "count" }], { output_config: { format: { type: "json_schema", schema: { type: "object", properties: { n: { type: "integer" } } } } } })), { projectContext: "keep" });
    expect(body.goal).toBe(`count\n\n${outputInstruction({ type: "json_schema", schema: { type: "object", properties: { n: { type: "integer" } } } })}`);
  });
});
