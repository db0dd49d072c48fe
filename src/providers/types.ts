/**
 * The contract between the router and the provider adapters. An adapter is code for one
 * protocol kind; a provider is data (config). Adapters translate with pure functions and do
 * their I/O in one place; they never probe health on their own (the supervisor does).
 */
import type { MessagesRequest } from "../anthropic/schema.ts";
import type { StreamEvent } from "../anthropic/types.ts";
import type { Provider } from "../config/load.ts";

export interface CallContext {
  provider: Provider;
  /** The upstream base URL chosen for this call (one of provider.urls). */
  url: string;
  /** The model name the upstream knows ("" when the provider has no models, e.g. Victoria). */
  model: string;
  request: MessagesRequest;
  /** The client's headers: adapters pick what they forward (anthropic-*, session id). */
  headers: Headers;
  requestId: string;
  signal: AbortSignal;
}

/** What a successful upstream call gives back, once the upstream has committed to answer. */
export type Outcome =
  | { type: "events"; events: AsyncIterable<StreamEvent>; headers?: Record<string, string> }
  /** A finished upstream body relayed as it is (anthropic kind, non-streaming). */
  | { type: "body"; status: number; body: string; headers: Record<string, string> };

export interface Adapter {
  call(ctx: CallContext): Promise<Outcome>;
  /** Model names the upstream serves right now. */
  listModels(provider: Provider, url: string, signal: AbortSignal): Promise<string[]>;
}
