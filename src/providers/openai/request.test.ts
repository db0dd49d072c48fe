import { describe, expect, test } from "bun:test";
import { normalise, offeredTools, systemOf } from "../../anthropic/normalise.ts";
import type { MessagesRequest } from "../../anthropic/schema.ts";
import { convertToolChoice, convertTools, hasImages, reasoningSettings, toChatRequest, toolResultText } from "./request.ts";

const base = (over: Record<string, unknown> = {}): MessagesRequest =>
  ({ model: "claude-sonnet-5", max_tokens: 64, messages: [{ role: "user", content: "hi" }], ...over }) as MessagesRequest;

describe("RequestConverter messages", () => {
  const cases: Array<[string, Record<string, unknown>, unknown[]]> = [
    ["Request_StringUser", {}, [{ role: "user", content: "hi" }]],
    ["Request_SystemString", { system: "be brief" }, [{ role: "system", content: "be brief" }, { role: "user", content: "hi" }]],
    [
      "Request_SystemBlocksJoinedWithBlankLine_BillingHeaderDropped",
      { system: [{ type: "text", text: "x-anthropic-billing-header: cc_version=1;" }, { type: "text", text: "A", cache_control: { type: "ephemeral" } }, { type: "text", text: "B" }] },
      [{ role: "system", content: "A\n\nB" }, { role: "user", content: "hi" }],
    ],
    [
      "Request_SystemRoleInsideMessagesStaysInPlaceAsUserReminder",
      { messages: [{ role: "user", content: "u1" }, { role: "system", content: [{ type: "text", text: "env" }] }, { role: "user", content: "u2" }] },
      [{ role: "user", content: "u1\n\n<system-reminder>\nenv\n</system-reminder>" }, { role: "user", content: "u2" }],
    ],
    [
      "Request_TextBlocksBecomeOneString",
      { messages: [{ role: "user", content: [{ type: "text", text: "<reminder>" }, { type: "text", text: "do it", cache_control: { type: "ephemeral" } }] }] },
      [{ role: "user", content: "<reminder>\n\ndo it" }],
    ],
    [
      "Request_Base64ImageBecomesDataUrl",
      { messages: [{ role: "user", content: [{ type: "text", text: "what?" }, { type: "image", source: { type: "base64", media_type: "image/jpeg", data: "AAAA" } }] }] },
      [{ role: "user", content: [{ type: "text", text: "what?" }, { type: "image_url", image_url: { url: "data:image/jpeg;base64,AAAA" } }] }],
    ],
    [
      "Request_UrlImagePassesUrl",
      { messages: [{ role: "user", content: [{ type: "image", source: { type: "url", url: "https://x/y.png" } }] }] },
      [{ role: "user", content: [{ type: "image_url", image_url: { url: "https://x/y.png" } }] }],
    ],
    [
      "Request_AssistantToolUseBecomesToolCalls_ThinkingDropped",
      {
        messages: [
          { role: "user", content: "go" },
          {
            role: "assistant",
            content: [
              { type: "thinking", thinking: "hmm", signature: "sig" },
              { type: "text", text: "Writing." },
              { type: "tool_use", id: "toolu_1", name: "Write", input: { file_path: "/a", content: "x\n" } },
            ],
          },
        ],
      },
      [
        { role: "user", content: "go" },
        { role: "assistant", content: "Writing.", tool_calls: [{ id: "toolu_1", type: "function", function: { name: "Write", arguments: '{"file_path":"/a","content":"x\\n"}' } }] },
      ],
    ],
    [
      "Request_ToolResultsBecomeToolMessagesBeforeUserText",
      {
        messages: [
          {
            role: "user",
            content: [
              { type: "text", text: "and then?" },
              { type: "tool_result", tool_use_id: "t1", content: "ok" },
              { type: "tool_result", tool_use_id: "t2", content: [{ type: "text", text: "a" }, { type: "text", text: "b" }], is_error: true },
            ],
          },
        ],
      },
      [
        { role: "tool", tool_call_id: "t1", content: "ok" },
        { role: "tool", tool_call_id: "t2", content: "Error: a\nb" },
        { role: "user", content: "and then?" },
      ],
    ],
    [
      "Request_OnlyToolResultMeansNoUserMessage",
      { messages: [{ role: "user", content: [{ type: "tool_result", tool_use_id: "t1", content: "done" }] }] },
      [{ role: "tool", tool_call_id: "t1", content: "done" }],
    ],
    [
      "Request_TextDocumentInlined_PdfNamed",
      {
        messages: [
          {
            role: "user",
            content: [
              { type: "document", source: { type: "text", media_type: "text/plain", data: "doc body" } },
              { type: "document", source: { type: "base64", media_type: "application/pdf", data: "JVBER" } },
            ],
          },
        ],
      },
      [{ role: "user", content: "doc body\n\n[a application/pdf attachment was left out: this server cannot read it]" }],
    ],
  ];
  for (const [name, over, messages] of cases) {
    test(name, () => {
      expect(toChatRequest(normalise(base(over)), "qwen").messages).toEqual(messages as never);
    });
  }

  test("Request_ToolsNoneFlattensToolHistoryToText", () => {
    const req = base({
      tools: [{ name: "Read", input_schema: { type: "object" } }],
      messages: [
        { role: "user", content: "go" },
        { role: "assistant", content: [{ type: "tool_use", id: "t1", name: "Read", input: { p: 1 } }] },
        { role: "user", content: [{ type: "tool_result", tool_use_id: "t1", content: "42" }] },
      ],
    });
    const out = toChatRequest(normalise(req), "m", { tools: "none" });
    expect(out.tools).toBeUndefined();
    expect(out.messages).toEqual([
      { role: "user", content: "go" },
      { role: "assistant", content: '[called tool Read (t1) with {"p":1}]' },
      { role: "user", content: "[result of tool call t1]\n42" },
    ]);
  });
});

describe("RequestConverter fields", () => {
  test("Request_AlwaysStreamsWithUsage_MaxTokensAndSampling", () => {
    const out = toChatRequest(normalise(base({ stream: false, temperature: 0.2, top_p: 0.9, top_k: 40, stop_sequences: ["END"], metadata: { user_id: "u" } })), "qwen2.5");
    expect(out).toMatchObject({ model: "qwen2.5", stream: true, stream_options: { include_usage: true }, max_tokens: 64, temperature: 0.2, top_p: 0.9, top_k: 40 });
    // stop_sequences stay with atrad, which finds them in the text: mlx_lm.server would hide which matched.
    expect(out).not.toHaveProperty("stop");
    expect(out).not.toHaveProperty("metadata");
    expect(out).not.toHaveProperty("user");
  });

  test("Request_UnsetSamplingStaysUnset", () => {
    const out = toChatRequest(normalise(base()), "m");
    for (const k of ["temperature", "top_p", "top_k", "stop", "tools", "tool_choice", "reasoning_effort"]) expect(out).not.toHaveProperty(k);
  });

  test("Request_ToolsMapSchemaAndDropAnthropicKeys", () => {
    const tools = convertTools(offeredTools(base({ tools: [
      { name: "Write", description: "write", input_schema: { type: "object", properties: { a: { type: "string" } } }, cache_control: { type: "ephemeral" } },
      { name: "Later", input_schema: { type: "object" }, defer_loading: true },
      { name: "web_search", type: "web_search_20250305", max_uses: 3 } as never,
      { name: "NoDesc", input_schema: { type: "object" }, input_examples: [{}] },
    ] as never })));
    expect(tools).toEqual([
      { type: "function", function: { name: "Write", description: "write", parameters: { type: "object", properties: { a: { type: "string" } } } } },
      { type: "function", function: { name: "NoDesc", parameters: { type: "object" } } },
    ]);
  });

  const choices: Array<[string, unknown, unknown]> = [
    ["Request_ToolChoiceAuto", { type: "auto" }, "auto"],
    ["Request_ToolChoiceAnyIsRequired", { type: "any" }, "required"],
    ["Request_ToolChoiceToolNamesFunction", { type: "tool", name: "Write" }, { type: "function", function: { name: "Write" } }],
    ["Request_ToolChoiceNone", { type: "none" }, "none"],
    ["Request_ToolChoiceAbsent", undefined, undefined],
  ];
  for (const [name, choice, expected] of choices) test(name, () => expect(convertToolChoice(choice as never)).toEqual(expected as never));

  test("Request_ToolChoiceNoneSendsNoTools", () => {
    const out = toChatRequest(normalise(base({ tools: [{ name: "A", input_schema: { type: "object" } }], tool_choice: { type: "none" } })), "m");
    expect(out.tools).toBeUndefined();
    expect(out.tool_choice).toBeUndefined();
  });

  test("Request_DisableParallelToolUse", () => {
    const out = toChatRequest(normalise(base({ tools: [{ name: "A", input_schema: { type: "object" } }], tool_choice: { type: "any", disable_parallel_tool_use: true } })), "m");
    expect(out).toMatchObject({ tool_choice: "required", parallel_tool_calls: false });
  });

  const thinking: Array<[string, Record<string, unknown>, unknown]> = [
    ["Request_ThinkingEnabledSmallBudgetIsLow", { thinking: { type: "enabled", budget_tokens: 1024 } }, { reasoning_effort: "low" }],
    ["Request_ThinkingEnabledMidBudgetIsMedium", { thinking: { type: "enabled", budget_tokens: 8000 } }, { reasoning_effort: "medium" }],
    ["Request_ThinkingEnabledBigBudgetIsHigh", { thinking: { type: "enabled", budget_tokens: 32000 } }, { reasoning_effort: "high" }],
    ["Request_ThinkingAdaptiveUsesEffort", { thinking: { type: "adaptive" }, output_config: { effort: "low" } }, { reasoning_effort: "low" }],
    ["Request_ThinkingAdaptiveMaxIsHigh", { thinking: { type: "adaptive" }, output_config: { effort: "max" } }, { reasoning_effort: "high" }],
    ["Request_ThinkingDisabledTurnsTemplateThinkingOff", { thinking: { type: "disabled" } }, { chat_template_kwargs: { enable_thinking: false } }],
    ["Request_NoThinkingSendsNothing", {}, {}],
  ];
  for (const [name, over, expected] of thinking) test(name, () => expect(reasoningSettings(base(over))).toEqual(expected as never));

  test("Request_HasImages", () => {
    expect(hasImages(toChatRequest(normalise(base()), "m"))).toBe(false);
    const img = base({ messages: [{ role: "user", content: [{ type: "image", source: { type: "base64", media_type: "image/png", data: "A" } }] }] });
    expect(hasImages(toChatRequest(normalise(img), "m"))).toBe(true);
  });

  test("Request_SystemTextVariants", () => {
    expect(systemOf(undefined).text).toBe("");
    expect(systemOf([{ type: "text", text: "x" }, { type: "image", source: { type: "url", url: "u" } }]).text).toBe("x");
  });

  test("Request_ToolResultImageIsNamed", () => {
    expect(toolResultText({ type: "tool_result", tool_use_id: "t", content: [{ type: "image", source: { type: "url", url: "u" } }] })).toBe("[image left out: tool messages carry text only]");
    expect(toolResultText({ type: "tool_result", tool_use_id: "t", content: [], is_error: true })).toBe("Error");
  });

  test("Request_StructuredOutputIsResponseFormatAndAnInstruction", () => {
    const out = toChatRequest(normalise(base({ output_config: { effort: "low", format: { type: "json_schema", schema: { type: "object", properties: { n: { type: "integer" } } } } } })), "m");
    expect(out.response_format).toEqual({ type: "json_schema", json_schema: { name: "output", schema: { type: "object", properties: { n: { type: "integer" } } }, strict: true } });
    expect(toChatRequest(normalise(base()), "m")).not.toHaveProperty("response_format");
    // mlx_lm.server has no response_format: the schema is also said, at the end of the prompt.
    expect(out.messages.at(-1)!.content).toEqual(expect.stringContaining('"properties":{"n":{"type":"integer"}}}\n</system-reminder>'));
  });
});
