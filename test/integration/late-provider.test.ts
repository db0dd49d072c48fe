/**
 * The order at login: atrad is up before Ollama. The model list atrad cached while Ollama was
 * down must not turn the first request after Ollama comes up into a 404.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { startOllamaStandIn, type OllamaStandIn } from "../standins/ollama.ts";
import { startTestDaemon, type TestDaemon } from "../support/daemon.ts";
import { freePort, waitFor } from "../support/procs.ts";

/** Only the ollama provider, at `port`; the rest of the default stack is off. */
const stack = (port: number, service: string) => `
[providers.ollama]
url = "http://127.0.0.1:${port}"
[providers.mlx]
enabled = false
[providers.victoria]
enabled = false
[providers.veronica]
enabled = false
[services.knowledge_os]
enabled = false
${service}
`;

const ask = (daemon: TestDaemon, model = "claude-sonnet-4-5") =>
  fetch(`${daemon.url}/v1/messages`, {
    method: "POST",
    headers: { "content-type": "application/json", "anthropic-version": "2023-06-01" },
    body: JSON.stringify({ model, max_tokens: 32, messages: [{ role: "user", content: "hello" }] }),
  });

let daemon: TestDaemon | undefined;
let ollama: OllamaStandIn | undefined;
afterEach(async () => {
  await daemon?.stop();
  await ollama?.stop();
  daemon = ollama = undefined;
});

describe("a provider that starts after atrad", () => {
  test("LateProvider_FirstRequestAfterItStartsIsServed (no service watching it)", async () => {
    const port = freePort();
    daemon = await startTestDaemon(stack(port, "[services.ollama]\nenabled = false"));
    // While it is down atrad can only refuse — and caches that the list could not be read.
    const before = await ask(daemon);
    expect(before.ok).toBe(false);
    expect(daemon.router.catalog.known("ollama").error).toBeDefined();

    ollama = startOllamaStandIn({ port });
    const res = await ask(daemon);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { content: Array<{ text?: string }> };
    expect(body.content[0]?.text).toBe("echo: hello");
    expect(ollama.received.at(-1)?.body.model).toBe(ollama.models[0]);
  });

  test("LateService_ComingUpRefreshesTheModelList without any request", async () => {
    const port = freePort();
    daemon = await startTestDaemon(stack(port, `[services.ollama]\nhealth = "http://127.0.0.1:${port}/api/version"\ninterval_s = 0.1`));
    // A listing while Ollama is down caches the failure.
    await (await fetch(`${daemon.url}/v1/models`)).text();
    expect(daemon.router.catalog.known("ollama").models).toEqual([]);

    ollama = startOllamaStandIn({ port });
    const known = await waitFor("the model list after the service came up", () => {
      const k = daemon!.router.catalog.known("ollama");
      return k.models.length ? k : undefined;
    });
    expect(known.models).toEqual(ollama.models);
    expect(known.error).toBeUndefined();
    expect((await ask(daemon)).status).toBe(200);
  });
});
