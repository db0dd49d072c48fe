/**
 * The Anthropic Messages request, as atrad accepts it.
 *
 * Every object keeps unknown fields (`additionalProperties: true`): Claude Code sends
 * fields we do not model (`context_management`, `output_config`, `defer_loading`, …) and an
 * `anthropic`-kind upstream must receive them unchanged, because betas and their body fields
 * travel as pairs (DESIGN §4.1). The schema is the single source of truth for the types.
 */
import { Type, type Static } from "@sinclair/typebox";

const open = { additionalProperties: true } as const;

export const ContentBlockSchema = Type.Object({ type: Type.String() }, open);

export const MessageParamSchema = Type.Object(
  {
    // `system` inside `messages` is real: Claude Code 2.1.330 sends it (DESIGN §4.2).
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

export const MessagesRequestSchema = Type.Object(
  {
    model: Type.String({ minLength: 1 }),
    messages: Type.Array(MessageParamSchema),
    max_tokens: Type.Integer({ minimum: 1 }),
    system: Type.Optional(Type.Union([Type.String(), Type.Array(ContentBlockSchema)])),
    stream: Type.Optional(Type.Boolean()),
    tools: Type.Optional(Type.Array(ToolSchema)),
    tool_choice: Type.Optional(Type.Object({ type: Type.String() }, open)),
    temperature: Type.Optional(Type.Number()),
    top_p: Type.Optional(Type.Number()),
    top_k: Type.Optional(Type.Integer()),
    stop_sequences: Type.Optional(Type.Array(Type.String())),
    thinking: Type.Optional(Type.Object({ type: Type.String() }, open)),
    metadata: Type.Optional(Type.Object({}, open)),
  },
  open,
);

/** count_tokens takes the same body without `max_tokens`. */
export const CountTokensRequestSchema = Type.Object(
  {
    model: Type.String({ minLength: 1 }),
    messages: Type.Array(MessageParamSchema),
    system: Type.Optional(Type.Union([Type.String(), Type.Array(ContentBlockSchema)])),
    tools: Type.Optional(Type.Array(ToolSchema)),
  },
  open,
);

export type MessagesRequest = Static<typeof MessagesRequestSchema>;
export type CountTokensRequest = Static<typeof CountTokensRequestSchema>;
export type MessageParam = Static<typeof MessageParamSchema>;
export type Tool = Static<typeof ToolSchema>;
