/**
 * Zero-config defaults: the user's stack as DESIGN §3 describes it. A user's config merges
 * over these by name, so `[providers.ollama] url = …` changes one field and keeps the rest;
 * `enabled = false` removes a default.
 */
import type { ConfigFile, ProviderConfig } from "./schema.ts";

/** Defaults are written like a user's file: only the keys that differ from the schema's defaults. */
type Defaults = Omit<ConfigFile, "providers"> & { providers: Record<string, Partial<ProviderConfig>> };

export const DEFAULT_PORT = 8040;
export const DEFAULT_HOST = "127.0.0.1";

export const DEFAULTS = {
  server: { host: DEFAULT_HOST, port: DEFAULT_PORT, auth_tokens: [], max_body_mb: 32, ping_interval_s: 10 },
  providers: {
    ollama: { kind: "anthropic", url: "http://127.0.0.1:11434" },
    // The ATRA MLX server speaks Ollama's /api/chat and has no tool support (DESIGN §4.4).
    mlx: { kind: "ollama", url: "http://127.0.0.1:11435", tools: "prompt" },
    victoria: { kind: "victoria", url: "http://127.0.0.1:8010", max_concurrency: 2 },
    veronica: { kind: "victoria", url: "http://127.0.0.1:8011", max_concurrency: 2, max_steps: 50 },
  },
  routes: {},
  services: {
    ollama: { health: "http://127.0.0.1:11434/api/version", provider: "ollama" },
    mlx: {
      health: "http://127.0.0.1:11435/health",
      expect: { status: ["healthy", "warning", "degraded"] },
      provider: "mlx",
    },
    victoria: { health: "http://127.0.0.1:8010/health", provider: "victoria" },
    veronica: { health: "http://127.0.0.1:8011/health", provider: "veronica" },
    knowledge_os: { health: "http://127.0.0.1:8002/health", expect: { status: ["healthy"] } },
  },
} satisfies Defaults;
