/**
 * The Anthropic Messages request, as atrad accepts it.
 *
 * Every object keeps unknown fields (`additionalProperties: true`): Claude Code sends fields we
 * do not model (`context_management`, `output_config`, `defer_loading`, …) and an
 * `anthropic`-kind upstream must receive them unchanged, because betas and their body fields
 * travel as pairs. The schema is the single source of truth for the types.
 *
 * Content blocks are a union discriminated by `type`: the known types with the fields the
 * translators rely on (a text block whose text is a number is a 400 here, as on Anthropic's
 * API, not a TypeError later), plus an open fallback for every other type, which keeps all its
 * fields so unknown and future blocks travel on unchanged.
 */
import { Type, type Static, type TSchema } from "@sinclair/typebox";

const open = { additionalProperties: true } as const;

/** An object of some other `type` than `known`, with whatever fields it has. */
function otherThan<const K extends string>(known: readonly K[], description: string) {
  return Type.Object({ type: Type.String({ pattern: `^(?!(?:${known.join("|")})$)`, description }) }, open);
}

const SOURCE_TYPES = ["base64", "url", "text"] as const;
export const SourceSchema = Type.Union([
  Type.Object({ type: Type.Literal("base64"), media_type: Type.Optional(Type.String()), data: Type.String() }, open),
  Type.Object({ type: Type.Literal("url"), url: Type.String() }, open),
  Type.Object({ type: Type.Literal("text"), media_type: Type.Optional(Type.String()), data: Type.String() }, open),
  // file ids, content sources, …: nothing atrad reads.
  otherThan(SOURCE_TYPES, "another source type"),
]);

export const TextBlockSchema = Type.Object({ type: Type.Literal("text"), text: Type.String() }, open);
export const ImageBlockSchema = Type.Object({ type: Type.Literal("image"), source: SourceSchema }, open);
export const DocumentBlockSchema = Type.Object({ type: Type.Literal("document"), source: SourceSchema, title: Type.Optional(Type.Unknown()) }, open);
export const ThinkingBlockSchema = Type.Object({ type: Type.Literal("thinking"), thinking: Type.String(), signature: Type.Optional(Type.String()) }, open);
export const ToolUseBlockSchema = Type.Object(
  { type: Type.Literal("tool_use"), id: Type.String(), name: Type.String(), input: Type.Record(Type.String(), Type.Unknown()) },
  open,
);
export const ServerToolUseBlockSchema = Type.Object(
  { type: Type.Literal("server_tool_use"), id: Type.String(), name: Type.String(), input: Type.Record(Type.String(), Type.Unknown()) },
  open,
);

/** What a tool result may hold. Only the blocks translators read are checked; others pass. */
const NESTED_TYPES = ["text", "image", "document"] as const;
export const NestedBlockSchema = Type.Union([TextBlockSchema, ImageBlockSchema, DocumentBlockSchema, otherThan(NESTED_TYPES, "another block type")]);

export const ToolResultBlockSchema = Type.Object(
  {
    type: Type.Literal("tool_result"),
    tool_use_id: Type.String(),
    content: Type.Optional(Type.Union([Type.String(), Type.Array(NestedBlockSchema)])),
    is_error: Type.Optional(Type.Boolean()),
  },
  open,
);

const KNOWN_TYPES = ["text", "image", "document", "thinking", "tool_use", "server_tool_use", "tool_result"] as const;
/** redacted_thinking, web_search_tool_result, container_upload, future types, … */
export const OtherBlockSchema = otherThan(KNOWN_TYPES, "another block type");

export const ContentBlockSchema = Type.Union([
  TextBlockSchema,
  ImageBlockSchema,
  DocumentBlockSchema,
  ThinkingBlockSchema,
  ToolUseBlockSchema,
  ServerToolUseBlockSchema,
  ToolResultBlockSchema,
  OtherBlockSchema,
]);

const content = <T extends TSchema>(block: T) => Type.Union([Type.String(), Type.Array(block)]);

export const MessageParamSchema = Type.Object(
  {
    // `system` inside `messages` is real: Claude Code sends it mid-conversation.
    role: Type.Union([Type.Literal("user"), Type.Literal("assistant"), Type.Literal("system")]),
    content: Type.Union([Type.String(), Type.Array(ContentBlockSchema)]),
  },
  open,
);

export const ToolSchema = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    description: Type.Optional(Type.String()),
    input_schema: Type.Optional(Type.Object({}, open)),
  },
  open,
);

/** Structured output: a JSON schema the answer must match (`effort` and others pass). */
export const JsonSchemaFormatSchema = Type.Object({ type: Type.Literal("json_schema"), schema: Type.Object({}, open), name: Type.Optional(Type.String()) }, open);
export const OutputConfigSchema = Type.Object({ format: Type.Optional(Type.Union([JsonSchemaFormatSchema, otherThan(["json_schema"], "another output format")])) }, open);

export const MessagesRequestSchema = Type.Object(
  {
    model: Type.String({ minLength: 1 }),
    messages: Type.Array(MessageParamSchema),
    max_tokens: Type.Integer({ minimum: 1 }),
    system: Type.Optional(content(ContentBlockSchema)),
    stream: Type.Optional(Type.Boolean()),
    tools: Type.Optional(Type.Array(ToolSchema)),
    tool_choice: Type.Optional(Type.Object({ type: Type.String() }, open)),
    temperature: Type.Optional(Type.Number()),
    top_p: Type.Optional(Type.Number()),
    top_k: Type.Optional(Type.Integer()),
    stop_sequences: Type.Optional(Type.Array(Type.String())),
    thinking: Type.Optional(Type.Object({ type: Type.String() }, open)),
    metadata: Type.Optional(Type.Object({}, open)),
    output_config: Type.Optional(OutputConfigSchema),
  },
  open,
);

/** count_tokens takes the same body without `max_tokens`. */
export const CountTokensRequestSchema = Type.Object(
  {
    model: Type.String({ minLength: 1 }),
    messages: Type.Array(MessageParamSchema),
    system: Type.Optional(content(ContentBlockSchema)),
    tools: Type.Optional(Type.Array(ToolSchema)),
  },
  open,
);

export type TextBlock = Static<typeof TextBlockSchema>;
export type ImageBlock = Static<typeof ImageBlockSchema>;
export type DocumentBlock = Static<typeof DocumentBlockSchema>;
export type ThinkingBlock = Static<typeof ThinkingBlockSchema>;
export type ToolUseBlock = Static<typeof ToolUseBlockSchema>;
export type ServerToolUseBlock = Static<typeof ServerToolUseBlockSchema>;
export type ToolResultBlock = Static<typeof ToolResultBlockSchema>;
export type OtherBlock = Static<typeof OtherBlockSchema>;
export type NestedBlock = Static<typeof NestedBlockSchema>;
export type Source = Static<typeof SourceSchema>;
export type ContentBlock = Static<typeof ContentBlockSchema>;
export type MessagesRequest = Static<typeof MessagesRequestSchema>;
export type CountTokensRequest = Static<typeof CountTokensRequestSchema>;
export type MessageParam = Static<typeof MessageParamSchema>;
export type Tool = Static<typeof ToolSchema>;
export type JsonSchemaFormat = Static<typeof JsonSchemaFormatSchema>;
