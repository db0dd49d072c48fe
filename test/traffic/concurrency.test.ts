/** Per-provider max_concurrency under a burst, and queue timeouts answering 529. */
import Anthropic from "@anthropic-ai/sdk";
import { expect, test } from "bun:test";
import { startCounting } from "../standins/counting.ts";
import { atradInFrontOf } from "../support/gateway.ts";
import { waitFor } from "../support/procs.ts";
import { post } from "../support/sse.ts";

const { slow, atrad } = await atradInFrontOf({ slow: startCounting("slow") }, ({ slow }) => `
[providers.gpu]
kind = "anthropic"
url = "${slow.url}"
max_concurrency = 3
queue_timeout_s = 30
[providers.tight]
kind = "anthropic"
url = "${slow.url}"
max_concurrency = 1
queue_timeout_s = 0.2
[routes]
default = ["gpu/m"]
`);

test("a burst of 50 never exceeds max_concurrency = 3, and every request is served", async () => {
  slow.mode = { delayMs: 10 };
  slow.maxActive = 0;
  const client = new Anthropic({ baseURL: atrad.url, apiKey: "k", maxRetries: 0 });
  const results = await Promise.all(
    Array.from({ length: 50 }, (_, i) =>
      i % 2
        ? client.messages.create({ model: "gpu/m", max_tokens: 5, messages: [{ role: "user", content: `n${i}` }] })
        : client.messages.stream({ model: "gpu/m", max_tokens: 5, messages: [{ role: "user", content: `n${i}` }] }).finalMessage(),
    ),
  );
  expect(results).toHaveLength(50);
  expect(results.every((m) => (m.content[0] as any).text === "served by slow")).toBe(true);
  expect(slow.maxActive).toBe(3);
  expect(atrad.router.limiter("gpu")!.inFlight).toBe(0);
});

test("a request that waits past queue_timeout_s gets 529 overloaded_error with retry-after", async () => {
  let release!: () => void;
  slow.mode = { hold: new Promise<void>((r) => (release = r)) };
  const body = { model: "tight/m", max_tokens: 5, messages: [{ role: "user", content: "x" }] };
  const pending = post(`${atrad.url}/v1/messages`, body);
  // The first holds tight's one slot (its upstream answers only once released) while the second waits out the queue.
  await waitFor("the first request at the upstream", () => slow.active === 1);
  const second = await post(`${atrad.url}/v1/messages`, body);
  release();
  const first = await pending;
  expect(first.status).toBe(200);
  expect(second.status).toBe(529);
  expect(second.headers.get("retry-after")).toBe("1");
  const err: any = await second.json();
  expect(err.error.type).toBe("overloaded_error");
  expect(err.error.message).toContain("tight is busy");
});

test("a client that leaves at any moment gives its slot back (max_concurrency = 1 keeps serving)", async () => {
  slow.mode = { delayMs: 20 };
  for (const abortAfterMs of [0, 5, 15, 40]) {
    const ac = new AbortController();
    const pending = fetch(`${atrad.url}/v1/messages`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: "tight/m", max_tokens: 5, stream: true, messages: [{ role: "user", content: "x" }] }),
      signal: ac.signal,
    }).catch(() => undefined);
    setTimeout(() => ac.abort(), abortAfterMs);
    await pending;
  }
  // queue_timeout_s is 0.2: a leaked slot would make this a 529.
  for (let i = 0; i < 50 && atrad.router.limiter("tight")!.inFlight > 0; i++) await Bun.sleep(20);
  expect(atrad.router.limiter("tight")!.inFlight).toBe(0);
  const res = await post(`${atrad.url}/v1/messages`, { model: "tight/m", max_tokens: 5, messages: [{ role: "user", content: "x" }] });
  expect(res.status).toBe(200);
});
