/**
 * Which Claude Code session a request belongs to: the `x-claude-code-session-id` header, else
 * the session id inside `metadata.user_id` (Claude Code puts a JSON string there).
 */
export function sessionIdOf(headers: Headers, metadata: unknown): string | null {
  const header = headers.get("x-claude-code-session-id");
  if (header) return header;
  const userId = (metadata as { user_id?: unknown } | undefined)?.user_id;
  if (typeof userId !== "string") return null;
  try {
    const parsed = JSON.parse(userId) as { session_id?: unknown };
    if (typeof parsed.session_id === "string") return parsed.session_id;
  } catch {}
  return null;
}
