/** What `GET /atrad/ui/state` returns: one poll carries everything the page draws. */
import type { StatusDocument } from "../daemon/status.ts";
import type { RequestRecord } from "../gateway/record.ts";

/** A supervised port as the supervisor reports it (DESIGN §6); every field but name/state may be absent. */
export interface ServiceView {
  name: string;
  state: string;
  port?: number | null;
  owned?: boolean;
  pid?: number | null;
  restarts?: number;
  since?: string | null;
  last_error?: string | null;
}

export interface UiState {
  status: (Omit<StatusDocument, "services"> & { services: ServiceView[] }) | null;
  requests: RequestRecord[];
  /** Per provider, the latency (ms) of its last requests, oldest first. */
  series: Record<string, number[]>;
  /** Server time, so "up 3m" is not skewed by the browser's clock. */
  now: string;
}
