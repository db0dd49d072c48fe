/**
 * A scripted "model" for a Claude Code session with several tool round trips, a subagent and
 * a `--continue` turn, written once over a neutral view of the conversation so that every
 * kind's stand-in plays the same part:
 *
 *   TASK-ONE   Write notes.txt → Read it → Bash `wc -l` → Edit a typo → Agent (a reviewer) → answer
 *   REVIEW     (the subagent) Read notes.txt → answer
 *   TASK-TWO   (the --continue turn) Bash `cat` → answer
 *
 * Anything else (an auxiliary request, a title) gets a short text.
 */

export type Step = { text: string } | { tool: { name: string; input: Record<string, unknown> } };

/** What the script needs of a conversation: the user's texts and tool results, in order. */
export type Item = { user: string } | { result: string };

export const MARKERS = { one: "TASK-ONE", two: "TASK-TWO", review: "TASK-REVIEW" } as const;
export const NOTES = "line one\nline twoo\nline three\n";
export const FIXED = "line one\nline two\nline three\n";
export const ANSWERS = { one: "All done.", two: "Shown.", review: "Review: the notes look right.", other: "ok" } as const;

export function promptOne(): string {
  return `${MARKERS.one}: create notes.txt, read it back, count its lines, fix the typo, then have a helper agent review it.`;
}
export const promptTwo = () => `${MARKERS.two}: show me notes.txt once more.`;

/** Tool results after the last user text that contains `marker`, or -1 when none does. */
function resultsAfter(items: readonly Item[], marker: string): number {
  let at = -1;
  items.forEach((it, i) => {
    if ("user" in it && it.user.includes(marker)) at = i;
  });
  if (at < 0) return -1;
  return items.slice(at + 1).filter((it) => "result" in it).length;
}

export function nextStep(items: readonly Item[], cwd: string): Step {
  const file = `${cwd}/notes.txt`;
  const review = resultsAfter(items, MARKERS.review);
  const one = resultsAfter(items, MARKERS.one);
  const two = resultsAfter(items, MARKERS.two);
  // The subagent's conversation starts with the Agent call's prompt (and not the main task).
  if (review >= 0 && one < 0) return review === 0 ? { tool: { name: "Read", input: { file_path: file } } } : { text: ANSWERS.review };
  if (two >= 0) return two === 0 ? { tool: { name: "Bash", input: { command: `cat ${file}`, description: "Show notes.txt" } } } : { text: ANSWERS.two };
  switch (one) {
    case -1:
      return { text: ANSWERS.other };
    case 0:
      return { tool: { name: "Write", input: { file_path: file, content: NOTES } } };
    case 1:
      return { tool: { name: "Read", input: { file_path: file } } };
    case 2:
      return { tool: { name: "Bash", input: { command: `wc -l ${file}`, description: "Count the lines" } } };
    case 3:
      return { tool: { name: "Edit", input: { file_path: file, old_string: "twoo", new_string: "two" } } };
    case 4:
      return { tool: { name: "Agent", input: { description: "Review notes", prompt: `${MARKERS.review}: review ${file} and say whether it looks right.`, subagent_type: "general-purpose" } } };
    default:
      return { text: ANSWERS.one };
  }
}

const textOf = (content: unknown): string =>
  typeof content === "string" ? content : Array.isArray(content) ? content.map((p: any) => (typeof p?.text === "string" ? p.text : typeof p?.content === "string" ? p.content : "")).join("\n") : "";

/**
 * OpenAI Chat Completions and Ollama /api/chat bodies: `tool` messages are results, and so is
 * each `<tool_result …>` block of prompt tools' user text.
 */
export function chatItems(body: any): Item[] {
  return (body.messages ?? []).flatMap((m: any): Item[] => {
    if (m.role === "tool") return [{ result: textOf(m.content) }];
    if (m.role !== "user") return [];
    const text = textOf(m.content);
    const results = text.match(/<tool_result\b/g)?.length ?? 0;
    return [...Array.from({ length: results }, () => ({ result: "" })), { user: text }];
  });
}

/** Anthropic Messages bodies: `tool_result` blocks are results. */
export function anthropicItems(body: any): Item[] {
  const out: Item[] = [];
  for (const m of body.messages ?? []) {
    if (m.role !== "user") continue;
    if (typeof m.content === "string") {
      out.push({ user: m.content });
      continue;
    }
    for (const b of m.content ?? []) {
      if (b?.type === "tool_result") out.push({ result: textOf(b.content) });
      else if (b?.type === "text") out.push({ user: b.text });
    }
  }
  return out;
}
