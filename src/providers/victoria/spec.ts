/**
 * The `victoria` kind: an agent orchestrator that takes a goal, not a chat. It names no
 * models (the provider name is the target) and calls no tools.
 */
import { Type } from "@sinclair/typebox";
import { victoriaAdapter } from "./adapter.ts";
import { defineSpec, providerTable, type Resolved } from "../schema.ts";

const table = providerTable(
  "victoria",
  { modes: ["none"], default: "none" },
  {
    /** What happens to the system prompt: keep, drop, or keep the first N chars. */
    project_context: Type.Union([Type.Literal("keep"), Type.Literal("drop"), Type.Integer({ minimum: 0 })], { default: "keep" }),
    /** Show orchestration stages as a thinking block. */
    show_progress: Type.Boolean({ default: true }),
    /** Use the smaller Veronica-style `/run` body with this step budget. */
    max_steps: Type.Optional(Type.Integer({ minimum: 1 })),
    /** Seconds before the first status poll of an accepted task; each later wait doubles up to max_poll_interval_s. */
    poll_interval_s: Type.Number({ exclusiveMinimum: 0, default: 0.5 }),
    max_poll_interval_s: Type.Number({ exclusiveMinimum: 0, default: 5 }),
  },
);
export type VictoriaProvider = Resolved<typeof table>;

export const victoriaSpec = defineSpec(table, { adapter: victoriaAdapter, listsModels: false });
