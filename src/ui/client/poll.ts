/** How often the status page fetches its state: its own file so tests can move the page's clock by exactly one poll. */
export const POLL_MS = 2000;
