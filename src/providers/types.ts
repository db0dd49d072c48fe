/**
 * The contract between the router and the provider kinds. An adapter is code for one
 * protocol kind; a provider is data (config). Adapters translate with pure functions and do
 * their I/O in one place; they never probe health on their own (the supervisor does).
 */
import type { TObject } from "@sinclair/typebox";
import type { MessagesRequest } from "../anthropic/schema.ts";
import type { StreamEvent } from "../anthropic/types.ts";
import type { ProviderBase, Resolved, ToolMode } from "./schema.ts";

export interface CallContext<P = ProviderBase> {
  provider: P;
  /** The upstream base URL chosen for this call (one of provider.urls). */
  url: string;
  /** The model name the upstream knows ("" when the provider has no models, e.g. Victoria). */
  model: string;
  request: MessagesRequest;
  /** The client's headers: adapters pick what they forward (anthropic-*, session id). */
  headers: Headers;
  requestId: string;
  signal: AbortSignal;
  /** The model's context window as the router learned it (kinds that can, ask the server for it). */
  contextWindow?: number;
  /** The server slot this session is pinned to (llama.cpp `id_slot`), when the provider has slots. */
  slot?: number;
}

/** What a successful upstream call gives back, once the upstream has committed to answer. */
export type Outcome =
  | { type: "events"; events: AsyncIterable<StreamEvent>; headers?: Record<string, string> }
  /** A finished upstream body relayed as it is (anthropic kind, non-streaming). */
  | { type: "body"; status: number; body: string; headers: Record<string, string> };

export interface Adapter<P = ProviderBase> {
  call(ctx: CallContext<P>): Promise<Outcome>;
  /** Model names the upstream serves right now. */
  listModels(provider: P, url: string, signal: AbortSignal): Promise<string[]>;
}

/** A context window in tokens, or "unknown" when the kind cannot tell (yet). */
export type ContextWindow = number | "unknown";

/**
 * Everything atrad knows about one kind, in one object: its config table (options and their
 * defaults), what it can do, its adapter, and how to ask it about models. Code outside
 * src/providers/ asks the spec instead of testing the kind's name.
 */
export interface ProviderSpec<T extends TObject = TObject, P = Resolved<T>> {
  kind: string;
  /** The `[providers.<name>]` table of this kind: shared keys, own options, defaults. */
  table: T;
  capabilities: {
    /** Whether the upstream names models (false: the provider name alone is the target). */
    listsModels: boolean;
    toolModes: readonly ToolMode[];
  };
  adapter: Adapter<P>;
  /** Model names the upstream serves now (for the router's catalog and `doctor`); [] when it has none. */
  listModels(provider: P, url: string, signal: AbortSignal): Promise<string[]>;
  contextWindow(provider: P, model: string, signal: AbortSignal): Promise<ContextWindow>;
}
