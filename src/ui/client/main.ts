/// <reference lib="dom" />
/**
 * The status page's script: poll one endpoint, redraw the sections whose data changed.
 * Polling rather than SSE because EventSource cannot send an Authorization header, and the
 * admin token must not ride in a URL the server would log.
 */
import type { UiState } from "../types.ts";
import { duration } from "./format.ts";
import { POLL_MS } from "./poll.ts";
import * as render from "./render.ts";

const TOKEN_KEY = "atrad.token";
const $ = (id: string) => document.getElementById(id)!;

/** `?token=` is a convenience for the first visit: keep it for this tab only, then drop it
 * from the address bar so it does not end up in history or a shared screenshot. */
function takeTokenFromUrl() {
  const url = new URL(location.href);
  const t = url.searchParams.get("token");
  if (t === null) return;
  if (t) sessionStorage.setItem(TOKEN_KEY, t);
  url.searchParams.delete("token");
  history.replaceState(null, "", url.pathname + url.search + url.hash);
}

const last = new Map<string, string>();
/** Redraw a section only when its data changed: keeps scroll position and text selection. */
function section(id: string, data: unknown, draw: () => Node[]) {
  const key = JSON.stringify(data);
  if (last.get(id) === key) return;
  last.set(id, key);
  $(id).replaceChildren(...draw());
}

function connection(text: string, kind: "live" | "off" | "auth") {
  const el = $("conn");
  if (el.textContent !== text) el.textContent = text;
  el.className = `conn ${kind}`;
}

function draw(state: UiState) {
  const s = state.status;
  const now = Date.parse(state.now) || Date.now();
  if (s) {
    $("version").textContent = `v${s.daemon.version}`;
    $("uptime").textContent = `up ${duration(s.daemon.uptime_s)}`;
    // Services are redrawn every poll on purpose: their "up for" clocks move.
    section("services", [s.services, Math.floor(now / 1000)], () => render.services(s.services, now));
    section("providers", [s.providers, state.series], () => render.providers(s.providers, state.series));
    section("routes", s.routes, () => render.routes(s.routes ?? {}));
  }
  section("requests", state.requests, () => render.requests(state.requests));
  $("req-count").textContent = state.requests.length ? `(last ${state.requests.length})` : "";
}

async function poll(): Promise<void> {
  const token = sessionStorage.getItem(TOKEN_KEY);
  try {
    const res = await fetch("/atrad/ui/state", { headers: token ? { authorization: `Bearer ${token}` } : {}, cache: "no-store" });
    if (res.status === 401) {
      ($("auth") as HTMLFormElement).hidden = false;
      $("auth-msg").textContent = token ? "That token was not accepted." : "This atrad requires an admin token (one of server.auth_tokens).";
      connection("token needed", "auth");
      return;
    }
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    ($("auth") as HTMLFormElement).hidden = true;
    draw((await res.json()) as UiState);
    connection(`live · ${new Date().toLocaleTimeString()}`, "live");
    document.body.dataset.ready = "1";
  } catch (err) {
    connection(`offline · retrying (${(err as Error).message})`, "off");
  }
}

function loop() {
  // A background tab need not poll; it catches up the moment it is shown again.
  const next = () => setTimeout(loop, POLL_MS);
  if (document.hidden) return next();
  void poll().finally(next);
}

takeTokenFromUrl();
$("origin").textContent = location.host;
($("auth") as HTMLFormElement).addEventListener("submit", (e) => {
  e.preventDefault();
  const input = $("token") as HTMLInputElement;
  if (input.value.trim()) sessionStorage.setItem(TOKEN_KEY, input.value.trim());
  input.value = "";
  void poll();
});
document.addEventListener("visibilitychange", () => {
  if (!document.hidden) void poll();
});
loop();
