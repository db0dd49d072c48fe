/**
 * Warm-up: the fixed start of a Claude Code session — its system prompt and tools, 11k tokens
 * and more — is the same from one session to the next, so the local server can prefill it
 * before the user's first turn arrives (`atrad launch` asks for this). atrad keeps, per target,
 * the system prompt and tools of the last main-session request that went there; the warm-up
 * request is those with a one-word question and a one-token answer.
 */
import type { MessagesRequest } from "../anthropic/schema.ts";

type Prefix = Pick<MessagesRequest, "system" | "tools">;

/** Targets remembered (each prefix is one request's system prompt and tools). */
const MAX_TARGETS = 8;

export class WarmPrefixes {
  private readonly byTarget = new Map<string, Prefix>();

  remember(target: string, request: MessagesRequest) {
    if (!request.tools?.length) return;
    this.byTarget.delete(target);
    this.byTarget.set(target, { system: request.system, tools: request.tools });
    if (this.byTarget.size > MAX_TARGETS) this.byTarget.delete(this.byTarget.keys().next().value!);
  }

  /** The warm-up request for `target`, or undefined when no session has run there yet. */
  request(target: string): MessagesRequest | undefined {
    const prefix = this.byTarget.get(target);
    if (!prefix) return undefined;
    return { model: target, max_tokens: 1, stream: true, ...prefix, messages: [{ role: "user", content: "Reply with OK." }] } as MessagesRequest;
  }
}
