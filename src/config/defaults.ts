/**
 * Zero-config defaults: the user's local AI stack, named. A user's config merges over these by
 * name, so `[providers.ollama] url = …` changes one field and keeps the rest; `enabled = false`
 * removes a default. Defaults of single keys (ports, timeouts, tool modes) are in the schema.
 */
import type { ProviderConfig, ServiceConfig } from "./schema.ts";

/** Written like a user's file: only the keys that differ from the schema's defaults. */
interface Stack {
  providers: Record<string, Partial<ProviderConfig>>;
  services: Record<string, Partial<ServiceConfig>>;
}

export const DEFAULTS = {
  providers: {
    ollama: { kind: "anthropic", url: "http://127.0.0.1:11434" },
    // The ATRA MLX server speaks Ollama's /api/chat and has no tool support.
    mlx: { kind: "ollama", url: "http://127.0.0.1:11435", tools: "prompt" },
    victoria: { kind: "victoria", url: "http://127.0.0.1:8010", max_concurrency: 2 },
    veronica: { kind: "victoria", url: "http://127.0.0.1:8011", max_concurrency: 2, max_steps: 50 },
  },
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
} satisfies Stack;
