import { describe, expect, test } from "bun:test";
import { AtradError } from "../anthropic/errors.ts";
import { parseConfigText, resolveConfig, type Provider, type Service } from "../config/load.ts";
import { Router } from "./router.ts";
import { startHint, unreachable } from "./unreachable.ts";

/** A port nothing listens on (taken, then given back). */
function freePort(): number {
  const s = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
  const port = s.port!;
  s.stop(true);
  return port;
}
const provider = (name: string, url: string) => ({ name, urls: [url] }) as unknown as Provider;
const service = (s: Partial<Service> & { name: string }) => s as Service;

describe("startHint", () => {
  test.each([
    ["ollama on macOS", provider("ollama", "http://127.0.0.1:11434"), [], "darwin", "`brew services start ollama`"],
    ["ollama on Linux", provider("ollama", "http://127.0.0.1:11434"), [], "linux", "`systemctl start ollama`"],
    ["ollama by port, any name", provider("local", "http://127.0.0.1:11434"), [], "linux", "`systemctl start ollama`"],
    ["a service with a restart command", provider("mlx", "http://127.0.0.1:11435"), [service({ name: "mlx", provider: "mlx", restart: ["launchctl", "kickstart", "gui/501/mlx"] })], "darwin", "`launchctl kickstart gui/501/mlx`"],
    ["a service atrad runs itself", provider("mlx", "http://127.0.0.1:11435"), [service({ name: "mlx", provider: "mlx", command: ["python", "server.py"] })], "linux", "atrad starts service mlx itself"],
    ["anything else", provider("lm", "http://10.0.0.5:1234"), [], "linux", "start the server at http://10.0.0.5:1234"],
  ])("%s", (_name, p, services, platform, expected) => {
    expect(startHint(p, services as Service[], platform)).toContain(expected);
  });
});

test("unreachable: 503, x-should-retry false, every dead target with its reason and fix", () => {
  const err = unreachable("opus", "opus", [
    { target: "ollama/qwen3:8b", provider: provider("ollama", "http://127.0.0.1:11434"), reason: "service ollama is down (connection refused)" },
    { target: "gone/x", reason: 'no provider named "gone"' },
  ], [], "darwin");
  expect(err.status).toBe(503);
  expect(err.type).toBe("api_error");
  expect(err.headers).toEqual({ "x-should-retry": "false" });
  expect(err.message).toBe(
    'no backend can answer model "opus" (route opus) — ollama/qwen3:8b: service ollama is down (connection refused); start it with `brew services start ollama` (or open the Ollama app) — gone/x: no provider named "gone"; add [providers.gone] to the config. Then `atrad status` shows what is up.',
  );
});

describe("zero config with every model-listing provider refusing", () => {
  test("dispatch fails fast naming each provider, instead of a 404 'no provider reported any models'", async () => {
    const [a, b] = [freePort(), freePort()];
    const config = resolveConfig(
      parseConfigText(`[providers.ollama]\nkind = "anthropic"\nurl = "http://127.0.0.1:${a}"\n[providers.mlx]\nkind = "ollama"\nurl = "http://127.0.0.1:${b}"\n[providers.victoria]\nenabled = false\n[providers.veronica]\nenabled = false\n`),
      { env: { ATRAD_HOME: "/tmp/atrad-unreachable-test" } },
    );
    const router = new Router(config);
    const err = await router
      .dispatch({ request: { model: "claude-sonnet-4-5", max_tokens: 8, messages: [{ role: "user", content: "hi" }] } as never, headers: new Headers(), requestId: "req_t", signal: new AbortController().signal })
      .then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(AtradError);
    const e = err as AtradError;
    expect(e.status).toBe(503);
    expect(e.headers["x-should-retry"]).toBe("false");
    expect(e.message).toContain("ollama is unreachable");
    expect(e.message).toContain("mlx is unreachable");
    expect(e.message).toContain(`127.0.0.1:${a}`);
    expect(e.message).toContain(`127.0.0.1:${b}`);
    expect(e.message).toContain("connection refused");
  });

  test("providers that answer but have no models still get the 404", async () => {
    const up = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => Response.json({ object: "list", data: [] }) });
    try {
      const config = resolveConfig(
        parseConfigText(`[providers.ollama]\nkind = "anthropic"\nurl = "http://127.0.0.1:${up.port}"\n[providers.mlx]\nenabled = false\n[providers.victoria]\nenabled = false\n[providers.veronica]\nenabled = false\n`),
        { env: { ATRAD_HOME: "/tmp/atrad-unreachable-test" } },
      );
      const err = await new Router(config)
        .dispatch({ request: { model: "x", max_tokens: 8, messages: [{ role: "user", content: "hi" }] } as never, headers: new Headers(), requestId: "req_t", signal: new AbortController().signal })
        .then(() => undefined, (e: unknown) => e);
      expect((err as AtradError).status).toBe(404);
    } finally {
      up.stop(true);
    }
  });
});
