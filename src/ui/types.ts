/** What `GET /atrad/ui/state` returns: one poll carries everything the page draws. */
import type { RequestRecord } from "../gateway/record.ts";
import type { ServiceEntry, StatusDocument } from "../observe/status-document.ts";

/** A supervised port as the status document carries it. */
export type ServiceView = ServiceEntry;

export interface UiState {
  status: StatusDocument | null;
  requests: RequestRecord[];
  /** Per provider, the latency (ms) of its last requests, oldest first. */
  series: Record<string, number[]>;
  /** Server time, so "up 3m" is not skewed by the browser's clock. */
  now: string;
}
