import { describe, expect, test } from "bun:test";
import type { Provider, Service } from "../config/load.ts";
import { startHint, unreachable } from "./unreachable.ts";

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
