/**
 * The status page in a real headless Chromium (Debian's package driven by playwright-core):
 * a request flows through a real daemon and shows up on the page, live, next to the routes and
 * service states; a second page with every service state checks the narrow layout, keyboard
 * focus and that nothing is fetched from anywhere but atrad. Screenshots go to $TMPDIR/atrad-test-artifacts
 * (ATRAD_TEST_ARTIFACTS=DIR to keep them elsewhere, e.g. as CI artifacts): tests write only to temp dirs.
 */
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { duration, secondsSince } from "../../src/ui/client/format.ts";
import { POLL_MS } from "../../src/ui/client/poll.ts";
import { VERSION } from "../../src/version.ts";
import { startGateway } from "../../src/gateway/server.ts";
import { Router } from "../../src/router/router.ts";
import type { RequestRecord } from "../../src/gateway/record.ts";
import type { StatusDocument } from "../../src/observe/status-document.ts";
import { uiRoutes } from "../../src/ui/routes.ts";
import { startCounting } from "../standins/counting.ts";
import { ensureBinary, freePort, waitForHealth } from "../support/binary.ts";
import { NOWHERE, providerToml, startTestDaemon, testConfig } from "../support/daemon.ts";

const TOKEN = "page-admin-token-42";
const ARTIFACTS = process.env.ATRAD_TEST_ARTIFACTS ?? join(tmpdir(), "atrad-test-artifacts");
const cleanup: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const fn of cleanup.reverse()) await fn().catch(() => {});
});

/** Where a headless Chromium usually is: ATRAD_CHROMIUM, Debian/Ubuntu's packages, macOS apps. */
const CANDIDATES = [
  process.env.ATRAD_CHROMIUM,
  "/usr/bin/chromium",
  "/usr/bin/chromium-browser",
  "/usr/bin/google-chrome",
  "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
  "/Applications/Chromium.app/Contents/MacOS/Chromium",
].filter((p): p is string => Boolean(p));
const CHROMIUM = process.env.ATRAD_CHROMIUM ?? CANDIDATES.find((p) => existsSync(p));
const HOW_TO_GET =
  process.platform === "darwin"
    ? "install Google Chrome, or: brew install --cask chromium"
    : "apt-get update && apt-get install -y chromium (.ci/run does this)";

/**
 * No silent skip: without Chromium this one test fails, saying how to get it, and the page
 * tests below are not run (each would only repeat the same line).
 */
test("a headless Chromium for the status page tests is installed", () => {
  if (process.env.ATRAD_CHROMIUM && !existsSync(process.env.ATRAD_CHROMIUM))
    throw new Error(`ATRAD_CHROMIUM=${process.env.ATRAD_CHROMIUM} does not exist: point it at a Chromium or Chrome executable, or unset it`);
  if (!CHROMIUM) throw new Error(`no headless Chromium found (looked at ${CANDIDATES.join(", ")}): ${HOW_TO_GET}; or set ATRAD_CHROMIUM=/path/to/chromium`);
});

/** One Chromium for the file (its start is most of a page test's time); each test opens its own page. */
let browser: Promise<Browser> | undefined;
function launch(): Promise<Browser> {
  browser ??= (async () => {
    // playwright gives Chromium a temp profile; ~/.pki, dconf and mimeapps.list go wherever HOME
    // and the XDG folders point: into a temp dir too, never the user's home.
    const scratch = mkdtempSync(join(tmpdir(), "atrad-chromium-"));
    const b = await chromium.launch({
      executablePath: CHROMIUM!,
      env: { ...process.env, HOME: scratch, XDG_CONFIG_HOME: join(scratch, "config"), XDG_CACHE_HOME: join(scratch, "cache"), XDG_DATA_HOME: join(scratch, "data") },
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    cleanup.push(() => b.close());
    return b;
  })();
  return browser;
}
// Serial on purpose: on two cores, pages rendering side by side took longer than one after another.
const pageTest = CHROMIUM && existsSync(CHROMIUM) ? test : test.skip;

/** Every request the page makes, to prove it needs nothing but atrad itself. */
function watchNetwork(page: Page): string[] {
  const urls: string[] = [];
  page.on("request", (r) => urls.push(r.url()));
  return urls;
}

pageTest("a request through atrad shows on the page with its route, the routes and the service states, live", async () => {
  const up = startCounting("up");
  cleanup.push(() => up.stop());
  const atrad = await startTestDaemon(`
[server]
auth_tokens = ["${TOKEN}"]
${providerToml("local", "anthropic", up.url)}
${providerToml("dead", "anthropic", NOWHERE)}
[routes]
default = ["dead/m", "local/m"]
haiku = ["local/m"]
[routes.aliases]
"fast" = ["local/m"]
[services.upstream]
health = "${up.url}/v1/models"
`);
  cleanup.push(() => atrad.stop());
  const client = new Anthropic({ baseURL: atrad.url, apiKey: TOKEN, maxRetries: 0 });
  await client.messages.create({ model: "claude-sonnet-4-6", max_tokens: 5, messages: [{ role: "user", content: "hi" }] });
  const first = atrad.records.at(-1)!;
  expect(first).toMatchObject({ model: "claude-sonnet-4-6", target: "local/m", status: 200 });

  // The data endpoint follows the admin rule; the page itself is open.
  expect((await fetch(`${atrad.url}/atrad/ui/state`)).status).toBe(401);

  const page = await (await launch()).newPage({ viewport: { width: 1280, height: 900 } });
  const urls = watchNetwork(page);
  // The page's own clock, so the test can move it to the next poll instead of waiting for it.
  await page.clock.install();
  await page.goto(`${atrad.url}/`);
  // No token yet: the page asks for one instead of showing an empty dashboard.
  await page.locator("#auth").waitFor({ state: "visible" });
  await page.locator("#token").fill(TOKEN);
  await page.keyboard.press("Enter");

  const row = page.locator(`[data-request-id="${first.request_id}"]`);
  await row.waitFor();
  expect(await row.locator(".model").textContent()).toBe("claude-sonnet-4-6");
  expect(await row.locator(".target").textContent()).toBe("local/m");
  expect(await row.textContent()).toContain("200");
  expect(await row.locator(".fallbacks").textContent()).toContain("dead/m");

  // Routes, in configured order.
  expect(await page.locator('[data-route="default"] .chain li').allTextContents()).toEqual(["dead/m", "local/m"]);
  expect(await page.locator('[data-route="haiku"] .chain li').allTextContents()).toEqual(["local/m"]);
  expect(await page.locator('[data-route="fast"] .chain li').allTextContents()).toEqual(["local/m"]);

  // Services: the page shows exactly what the status document says about each.
  const doc: any = await (await fetch(`${atrad.url}/atrad/status`, { headers: { "x-api-key": TOKEN } })).json();
  for (const s of doc.services) expect(await page.locator(`[data-service="${s.name}"] .badge`).getAttribute("data-state")).toBe(s.state);
  if (!doc.services.length) expect(await page.locator("#services").textContent()).toContain("No services are supervised");
  // Providers: health and the sparkline of the one that served.
  expect(await page.locator('[data-provider="local"] .badge').first().getAttribute("data-state")).toBe("up");
  await page.locator('[data-provider="local"] svg.spark polyline').waitFor({ state: "attached" });

  // Live: a streamed request made now appears without a reload.
  await client.messages.stream({ model: "fast", max_tokens: 5, messages: [{ role: "user", content: "again" }] }).finalMessage();
  const second = atrad.records.at(-1)!;
  const row2 = page.locator(`[data-request-id="${second.request_id}"]`);
  // Nothing but the page's poll timer can bring it: no reload, no visibility change.
  expect(await row2.count()).toBe(0);
  await page.clock.fastForward(POLL_MS);
  await row2.waitFor({ timeout: 6000 });
  expect(await row2.locator(".model").textContent()).toBe("fast");
  expect(await row2.locator(".target").textContent()).toBe("local/m");
  expect(await page.locator("tbody tr[data-request-id]").count()).toBe(2);

  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, "status-page.png"), fullPage: true });
  expect(urls.every((u) => u.startsWith(atrad.url))).toBe(true);

  // ?token= works for a first visit and is taken out of the address bar at once.
  const p2 = await (await launch()).newPage();
  await p2.goto(`${atrad.url}/?token=${TOKEN}`);
  await p2.locator(`[data-request-id="${first.request_id}"]`).waitFor();
  expect(p2.url()).toBe(`${atrad.url}/`);
  await p2.close();
  await page.close();
}, 30_000);

/** A status document with every service state, for what a fresh daemon cannot show. */
function fixtureState() {
  const now = Date.now();
  const STATES = ["up", "degraded", "down", "starting", "backoff", "failed", "conflict", "stopped"];
  const services = STATES.map((state, i) => ({
    name: `svc-${state}`,
    port: 11400 + i,
    state,
    owned: i % 2 === 0,
    pid: i % 2 === 0 ? 4100 + i : null,
    restarts: i,
    since: new Date(now - (i + 1) * 97_000).toISOString(),
    last_error: state === "failed" ? "exited with code 1 five times within 60 s; restart budget spent" : state === "conflict" ? "port 11406 is held by another process (pid 812)" : null,
  }));
  const stats = (n: number) => ({ requests_1h: n, errors_1h: n ? 1 : 0, p50_ms: n ? 840 : null, p95_ms: n ? 4200 : null, ttft_p50_ms: n ? 310 : null });
  const providers = [
    { name: "ollama", kind: "anthropic", url: "http://127.0.0.1:11434", state: "up", models: ["qwen2.5-coder:32b", "phi3.5:3.8b", "llama3.1:8b"], hosts: [{ url: "http://127.0.0.1:11434", state: "up", in_flight: 1 }, { url: "http://10.0.0.7:11434", state: "cooldown", in_flight: 0 }], in_flight: 1, queued: 2, stats: stats(42) },
    { name: "mlx", kind: "ollama", url: "http://127.0.0.1:11435", state: "down", error: "connection refused (127.0.0.1:11435)", models: [], hosts: [{ url: "http://127.0.0.1:11435", state: "up", in_flight: 0 }], in_flight: 0, queued: 0, stats: stats(0) },
  ];
  const record = (i: number, over: Partial<RequestRecord>): RequestRecord => ({
    time: new Date(now - i * 41_000).toISOString(), request_id: `req_${i}`, session_id: null, model: "claude-opus-5-5", target: "ollama/qwen2.5-coder:32b", provider: "ollama",
    fallbacks: [], status: 200, stream: true, ttft_ms: 310 + i * 20, total_ms: 840 + i * 300, input_tokens: 1200 + i, output_tokens: 80 + i, stop_reason: "end_turn", error_type: null, client_aborted: false, ...over,
  });
  const requests = [
    record(0, {}),
    // Client-chosen text reaches the page as text, never as markup.
    record(1, { model: '<img src=x onerror="document.body.dataset.pwned=1">', target: null, provider: null, status: 404, error_type: "not_found_error", ttft_ms: null, output_tokens: null }),
    record(2, { model: "claude-haiku-4-5", target: "ollama/phi3.5:3.8b", fallbacks: [{ target: "mlx/qwen2.5-3b", reason: "service mlx is down" }] }),
    record(3, { client_aborted: true, status: 200, output_tokens: 12 }),
  ];
  const status = {
    daemon: { running: true, pid: 4000, version: VERSION, url: "", uptime_s: 7_384 },
    providers,
    services,
    routes: { default: ["ollama/qwen2.5-coder:32b", "mlx/qwen2.5-3b"], haiku: ["ollama/phi3.5:3.8b"], "very-long-alias-for-a-narrow-screen": ["ollama/qwen2.5-coder:32b-instruct-q8_0", "mlx/mlx-community/Qwen2.5-Coder-7B-Instruct-4bit"] },
  };
  return { now, STATES, status, requests, series: { ollama: [900, 1200, 700, 4200, 850, 800, 1900, 760, 640, 2300, 810, 790], mlx: [] as number[] } };
}

pageTest("every service state, a narrow dark screen, keyboard focus and nothing fetched from elsewhere", async () => {
  const fx = fixtureState();
  const config = testConfig(providerToml("ollama", "anthropic", NOWHERE) + providerToml("mlx", "ollama", NOWHERE));
  const gw = await startGateway(
    {
      config: () => config,
      router: new Router(config),
      version: VERSION,
      startedAt: Date.now(),
      routes: uiRoutes({
        version: VERSION,
        providers: () => config.providers.map((p) => p.name),
        status: async () => fx.status as StatusDocument,
        recent: () => fx.requests,
        series: (p) => (fx.series as Record<string, number[]>)[p] ?? [],
      }),
    },
    "127.0.0.1",
    0,
  );
  cleanup.push(() => gw.stop(true));
  const context = await (await launch()).newContext({ viewport: { width: 380, height: 800 }, colorScheme: "dark" });
  cleanup.push(() => context.close());
  const page = await context.newPage();
  const urls = watchNetwork(page);
  // The page draws "up for …" against the `now` of each state document it fetched.
  const drawnAt: Array<Promise<number>> = [];
  page.on("response", (r) => {
    if (new URL(r.url()).pathname === "/atrad/ui/state") drawnAt.push(r.json().then((b) => Date.parse(b.now), () => NaN));
  });
  await page.goto(`${gw.url}/`);
  await page.locator("body[data-ready]").waitFor({ state: "attached" });

  for (const state of fx.STATES) expect(await page.locator(`[data-service="svc-${state}"] .badge`).getAttribute("data-state")).toBe(state);
  expect(await page.locator('[data-service="svc-failed"] .error').textContent()).toContain("restart budget spent");
  // Up since 97 s before the fixture was made: "1m 37s" at first, a second more per second the
  // page's clock has moved on since — the text must match one of the clocks it drew with.
  expect(duration(secondsSince(fx.status.services[0]!.since, fx.now))).toBe("1m 37s");
  const facts = await page.locator('[data-service="svc-up"] .facts').evaluate((dl) => [...dl.querySelectorAll("dt")].map((dt) => [dt.textContent, dt.nextElementSibling?.textContent]));
  const upFor = facts.find(([k]) => k === "up for")?.[1];
  const clocks = await Promise.all(drawnAt);
  expect(clocks.map((now) => duration(secondsSince(fx.status.services[0]!.since, now)))).toContain(upFor!);
  expect(await page.locator('[data-provider="mlx"] .badge').first().getAttribute("data-state")).toBe("down");
  expect(await page.locator('[data-provider="ollama"] .models li').allTextContents()).toEqual(["qwen2.5-coder:32b", "phi3.5:3.8b", "llama3.1:8b"]);
  expect((await page.locator('[data-provider="ollama"] svg.spark').getAttribute("aria-label"))!).toContain("last 12 requests");

  // Hostile model name: shown verbatim, never parsed.
  expect(await page.locator('[data-request-id="req_1"] .model').textContent()).toBe('<img src=x onerror="document.body.dataset.pwned=1">');
  expect(await page.locator("#requests img").count()).toBe(0);
  expect(await page.evaluate(() => document.body.dataset.pwned)).toBeUndefined();

  // Narrow: nothing pushes the page sideways.
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(380);

  // Keyboard: the first Tab lands on the skip link, with a visible outline.
  await page.keyboard.press("Tab");
  const focused = await page.evaluate(() => {
    const el = document.activeElement as HTMLElement;
    const style = getComputedStyle(el);
    return { cls: el.className, outline: style.outlineStyle, width: parseFloat(style.outlineWidth) };
  });
  expect(focused).toMatchObject({ cls: "skip", outline: "solid" });
  expect(focused.width).toBeGreaterThanOrEqual(2);
  await page.keyboard.press("Enter");
  await page.keyboard.press("Tab");
  expect(await page.evaluate(() => document.activeElement?.id)).toBe("requests");

  mkdirSync(ARTIFACTS, { recursive: true });
  // The artifact shows the page at rest, not the focus ring this test just checked.
  await page.evaluate(() => ((document.activeElement as HTMLElement | null)?.blur(), window.scrollTo(0, 0)));
  await page.screenshot({ path: join(ARTIFACTS, "status-page-narrow.png"), fullPage: true });
  expect(urls.every((u) => u.startsWith(gw.url))).toBe(true);
}, 30_000);

pageTest("the compiled binary serves the page from memory, far from any source tree", async () => {
  const bin = await ensureBinary();
  const home = mkdtempSync(join(tmpdir(), "atrad-ui-bin-"));
  const port = freePort();
  // cwd and HOME in an empty directory: the page can only come from inside the executable.
  const proc = Bun.spawn([bin, "serve", "--port", String(port)], { cwd: home, env: { ...process.env, ATRAD_HOME: home, HOME: home }, stdout: "ignore", stderr: "pipe" });
  cleanup.push(async () => {
    proc.kill("SIGTERM");
    await proc.exited;
  });
  const url = `http://127.0.0.1:${port}`;
  await waitForHealth(url);
  const res = await fetch(`${url}/`, { headers: { accept: "text/html" } });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
  expect(await res.text()).toContain("/atrad/ui/state");
  expect((await fetch(`${url}/`, { method: "HEAD" })).status).toBe(200);

  const page = await (await launch()).newPage();
  await page.goto(`${url}/`);
  await page.locator("body[data-ready]").waitFor({ state: "attached" });
  expect(await page.locator('[data-provider="ollama"]').count()).toBe(1);
  await page.close();
}, 30_000);
