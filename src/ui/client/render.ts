/// <reference lib="dom" />
/** One function per section of the page; each returns fresh nodes for its container. */
import type { RequestRecord } from "../../gateway/record.ts";
import type { ServiceView, UiState } from "../types.ts";
import { h, svg } from "./dom.ts";
import { clock, duration, ms, secondsSince, sparkPoints, tokens, tone } from "./format.ts";

type Status = NonNullable<UiState["status"]>;
type Provider = Status["providers"][number];

export function badge(state: string): HTMLElement {
  return h("span", { class: `badge ${tone(state)}`, "data-state": state }, h("span", { class: "dot", "aria-hidden": "true" }), state);
}

function empty(text: string): HTMLElement {
  return h("p", { class: "empty" }, text);
}

/** Name/value pairs as a definition list: screen readers announce them as such. */
function facts(pairs: Array<[string, string | Node]>): HTMLElement {
  return h("dl", { class: "facts" }, ...pairs.flatMap(([k, v]) => [h("dt", null, k), h("dd", null, v)]));
}

export function services(list: ServiceView[], now: number): Node[] {
  if (!list.length) return [empty("No services are supervised. Add [services.NAME] to the config to watch a port.")];
  return list.map((s) => {
    const since = secondsSince(s.since, now);
    // "down for 3m" answers the question people ask of a badge: how long has it been like this.
    const label = `${s.state} for`;
    return h(
      "article",
      { class: `card service ${tone(s.state)}`, "data-service": s.name },
      h("header", null, h("h3", null, s.name), badge(s.state)),
      facts([
        ["port", s.port ? String(s.port) : "—"],
        [label, duration(since)],
        ["restarts", String(s.restarts ?? 0)],
        ["owner", s.owned ? `atrad${s.pid ? ` · pid ${s.pid}` : ""}` : "external"],
      ]),
      s.last_error ? h("p", { class: "error", title: s.last_error }, s.last_error) : null,
    );
  });
}

function sparkline(values: number[], name: string): Node {
  const w = 160;
  const ht = 36;
  if (!values.length) return h("div", { class: "spark none" }, "no requests yet");
  const points = sparkPoints(values, w, ht);
  const last = values[values.length - 1]!;
  const chart = svg(
    "svg",
    { class: "spark", viewBox: `0 0 ${w} ${ht}`, width: w, height: ht, role: "img", "aria-label": `${name}: latency of the last ${values.length} requests, latest ${ms(last)}` },
    svg("polyline", { points, fill: "none", "stroke-width": 2, "stroke-linejoin": "round", "stroke-linecap": "round" }),
  );
  return h("div", { class: "spark-wrap" }, chart, h("span", { class: "spark-last" }, `latest ${ms(last)}`));
}

export function providers(list: Provider[], series: Record<string, number[]>): Node[] {
  if (!list.length) return [empty("No providers configured.")];
  return list.map((p) => {
    // Tolerate a thinner document (the CLI's daemon-down view omits hosts and stats).
    const st = p.stats;
    const models = p.models ?? [];
    const hostList = p.hosts ?? [];
    const hosts = hostList.length > 1 ? h("ul", { class: "hosts" }, ...hostList.map((x) => h("li", null, badge(x.state), " ", x.url))) : null;
    return h(
      "article",
      { class: `card provider ${tone(p.state)}`, "data-provider": p.name },
      h("header", null, h("h3", null, p.name, h("span", { class: "kind" }, p.kind)), badge(p.state)),
      h("p", { class: "url" }, p.url),
      p.error ? h("p", { class: "error", title: p.error }, p.error) : null,
      hosts,
      facts([
        ["requests 1h", st ? `${st.requests_1h}${st.errors_1h ? ` (${st.errors_1h} failed)` : ""}` : "—"],
        ["p50 / p95", st ? `${ms(st.p50_ms)} / ${ms(st.p95_ms)}` : "—"],
        ["first token p50", st ? ms(st.ttft_p50_ms) : "—"],
        ["in flight", `${p.in_flight ?? 0}${p.queued ? ` + ${p.queued} queued` : ""}`],
      ]),
      sparkline(series[p.name] ?? [], p.name),
      models.length
        ? h("ul", { class: "models", "aria-label": `${p.name} models` }, ...models.slice(0, 12).map((m) => h("li", null, m)), models.length > 12 ? h("li", { class: "more" }, `+${models.length - 12} more`) : null)
        : h("p", { class: "muted" }, "no models discovered"),
    );
  });
}

export function routes(table: Record<string, string[]>): Node[] {
  const rows = Object.entries(table);
  if (!rows.length) return [empty("No routes configured: Claude names go to discovered models. `atrad config init` writes the choice down.")];
  return [
    h(
      "table",
      { class: "routes" },
      h("thead", null, h("tr", null, h("th", { scope: "col" }, "model name"), h("th", { scope: "col" }, "targets, tried in order"))),
      h(
        "tbody",
        null,
        ...rows.map(([name, targets]) =>
          h(
            "tr",
            { "data-route": name },
            h("th", { scope: "row" }, h("code", null, name)),
            h("td", null, h("ol", { class: "chain" }, ...targets.map((t) => h("li", null, h("code", null, t))))),
          ),
        ),
      ),
    ),
  ];
}

function statusCell(r: RequestRecord): HTMLElement {
  const failed = r.status >= 400 || r.error_type !== null;
  const text = r.client_aborted ? `${r.status} aborted` : r.error_type ? `${r.status} ${r.error_type}` : String(r.status);
  return h("span", { class: `badge ${failed ? "bad" : r.client_aborted ? "warn" : "ok"}` }, text);
}

export function requests(list: RequestRecord[]): Node[] {
  if (!list.length) return [empty("No requests yet. Point Claude Code at this address: ANTHROPIC_BASE_URL=" + location.origin)];
  const head = ["time", "model → served by", "status", "first token", "total", "tokens in → out"];
  return [
    h(
      "table",
      { class: "requests" },
      h("thead", null, h("tr", null, ...head.map((c) => h("th", { scope: "col" }, c)))),
      h(
        "tbody",
        null,
        ...list.map((r) =>
          h(
            "tr",
            { "data-request-id": r.request_id },
            h("td", { "data-label": "time" }, h("time", { datetime: r.time }, clock(r.time))),
            h(
              "td",
              { "data-label": "model", class: "route-cell" },
              h("code", { class: "model" }, r.model),
              h("span", { class: "arrow", "aria-label": "served by" }, " → "),
              h("code", { class: "target" }, r.target ?? "none"),
              // Side work (a subagent, a compaction, a title) is named; the main session's turns are not.
              r.request_class && r.request_class !== "main" ? h("span", { class: "request-class" }, ` ${r.request_class}`) : null,
              r.fallbacks.length ? h("span", { class: "fallbacks" }, `after ${r.fallbacks.map((f) => `${f.target} (${f.reason})`).join(", ")}`) : null,
            ),
            h("td", { "data-label": "status" }, statusCell(r)),
            h("td", { "data-label": "first token", class: "num" }, ms(r.ttft_ms)),
            h("td", { "data-label": "total", class: "num" }, ms(r.total_ms)),
            h("td", { "data-label": "tokens", class: "num" }, tokens(r.input_tokens, r.output_tokens, r.cache_read_tokens)),
          ),
        ),
      ),
    ),
  ];
}
