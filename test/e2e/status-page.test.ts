/**
 * The status page in a real headless Chromium (Debian's package driven by playwright-core):
 * a request flows through a real daemon and shows up on the page, live, next to the routes and
 * service states; a second page with every service state checks the narrow layout, keyboard
 * focus and that nothing is fetched from anywhere but atrad. Screenshots go to test-artifacts/.
 */
import Anthropic from "@anthropic-ai/sdk";
import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { VERSION } from "../../src/version.ts";
import { startGateway } from "../../src/gateway/server.ts";
import { Router } from "../../src/router/router.ts";
import type { RequestRecord } from "../../src/gateway/record.ts";
import { startCounting } from "../standins/counting.ts";
import { ROOT } from "../support/binary.ts";
import { startTestDaemon, testConfig } from "../support/daemon.ts";

const CHROMIUM = process.env.ATRAD_CHROMIUM ?? "/usr/bin/chromium";
const ARTIFACTS = join(ROOT, "test-artifacts");
const TOKEN = "page-admin-token-42";
const cleanup: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const fn of cleanup.reverse()) await fn().catch(() => {});
});

let browser: Browser | undefined;
/** No silent skip: without Chromium the test fails and says how to get it (CI installs it). */
async function launch(): Promise<Browser> {
  if (!existsSync(CHROMIUM))
    throw new Error(`headless Chromium not found at ${CHROMIUM}: install Debian's package (apt-get update && apt-get install -y chromium; .ci/run does this) or set ATRAD_CHROMIUM`);
  if (!browser) {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    });
    const b = browser;
    cleanup.push(() => b.close());
  }
  return browser;
}

/** Every request the page makes, to prove it needs nothing but atrad itself. */
function watchNetwork(page: Page): string[] {
  const urls: string[] = [];
  page.on("request", (r) => urls.push(r.url()));
  return urls;
}

test("a request through atrad shows on the page with its route, the routes and the service states, live", async () => {
  const up = startCounting("up");
  cleanup.push(() => up.stop());
  const atrad = await startTestDaemon(`
[server]
auth_tokens = ["${TOKEN}"]
[providers.local]
kind = "anthropic"
url = "${up.url}"
[providers.dead]
kind = "anthropic"
url = "http://127.0.0.1:9"
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
  await client.messages.create({ model: "claude-sonnet-4-5", max_tokens: 5, messages: [{ role: "user", content: "hi" }] });
  const first = atrad.records.at(-1)!;
  expect(first).toMatchObject({ model: "claude-sonnet-4-5", target: "local/m", status: 200 });

  // The data endpoint follows the admin rule; the page itself is open.
  expect((await fetch(`${atrad.url}/atrad/ui/state`)).status).toBe(401);

  const page = await (await launch()).newPage({ viewport: { width: 1280, height: 900 } });
  const urls = watchNetwork(page);
  await page.goto(`${atrad.url}/`);
  // No token yet: the page asks for one instead of showing an empty dashboard.
  await page.locator("#auth").waitFor({ state: "visible" });
  await page.locator("#token").fill(TOKEN);
  await page.keyboard.press("Enter");

  const row = page.locator(`[data-request-id="${first.request_id}"]`);
  await row.waitFor();
  expect(await row.locator(".model").textContent()).toBe("claude-sonnet-4-5");
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
