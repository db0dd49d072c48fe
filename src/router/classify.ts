/**
 * What kind of request this is, from Claude Code's hint headers: with
 * CLAUDE_CODE_GATEWAY_HINT_HEADERS=1 (Claude Code ≥ 2.1.273) every request carries
 * `x-claude-code-request-class` (main | subagent | workflow | compaction | auxiliary), and
 * (≥ 2.1.283) a compaction also `x-claude-code-compaction`. Without hints, a request that names
 * a parent agent (`x-claude-code-parent-agent-id`) is a subagent's; anything else is main.
 * Each class but main may have its own route (`[routes] subagent / compaction / background`),
 * so that side work does not evict the main session's prompt cache on a one-slot server.
 */
export const REQUEST_CLASSES = ["main", "subagent", "compaction", "background"] as const;
export type RequestClass = (typeof REQUEST_CLASSES)[number];

const HINTS: Record<string, RequestClass> = {
  main: "main",
  subagent: "subagent",
  // A workflow's steps are agents started by the session: its subagents, for routing.
  workflow: "subagent",
  compaction: "compaction",
  // Titles, summaries, suggestions: work in the background of a session.
  auxiliary: "background",
};

export function requestClassOf(headers: Headers): RequestClass {
  const hint = headers.get("x-claude-code-request-class")?.trim().toLowerCase();
  if (hint && Object.hasOwn(HINTS, hint)) return HINTS[hint]!;
  if (headers.get("x-claude-code-compaction")) return "compaction";
  if (headers.get("x-claude-code-parent-agent-id")?.trim()) return "subagent";
  return "main";
}
