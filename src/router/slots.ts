/**
 * Server slots (llama.cpp `--parallel N`): each slot keeps its own prompt cache, and a request
 * may name its slot (`id_slot`). Left to itself the server gives a new conversation the slot
 * whose cache looks most alike — with Claude Code every prompt starts with the same system
 * prompt, so a new session or a subagent evicts another's conversation. Pinning each session
 * (and agent) to a slot of its own keeps every conversation's prefix; when there are more
 * sessions than slots, the least recently used slot is given up.
 */
export class Slots {
  /** Per host: affinity key → slot, in least-recently-used order. */
  private readonly byHost = new Map<string, Map<string, number>>();

  constructor(readonly count: number) {}

  slotFor(host: string, key: string): number {
    let keys = this.byHost.get(host);
    if (!keys) this.byHost.set(host, (keys = new Map()));
    let slot = keys.get(key);
    if (slot === undefined) {
      const used = new Set(keys.values());
      slot = [...Array(this.count).keys()].find((s) => !used.has(s));
      if (slot === undefined) {
        // Every slot is taken: the least recently used key gives its slot up.
        const [oldest, freed] = keys.entries().next().value!;
        keys.delete(oldest);
        slot = freed;
      }
    }
    keys.delete(key);
    keys.set(key, slot);
    return slot;
  }
}

/** A session's conversation, or an agent's within it: what stays on one host and one slot. */
export function affinityKey(headers: Headers, sessionId: string | null): string | undefined {
  if (!sessionId) return undefined;
  const agent = headers.get("x-claude-code-agent-id")?.trim();
  return `${sessionId}\u0000${agent || "main"}`;
}
