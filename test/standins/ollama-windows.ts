/** What Ollama says about context windows, shared by both Ollama stand-ins. */

export interface OllamaWindowOptions {
  /** The trained maximum `/api/show` reports (`<arch>.context_length`). */
  trained: number;
  /** The context the loaded runner has (`/api/ps` `context_length`); else Ollama's default. */
  loaded?: number;
}

/** Ollama's default context when neither the request (`num_ctx`) nor the model sets one. */
export const OLLAMA_DEFAULT_CTX = 4096;

/**
 * Ollama's `/api/ps` (loaded models with their `context_length`) and `/api/show` (the trained
 * maximum in `model_info`), for the stand-ins that model windows; undefined for other routes.
 */
export function windowRoutes(req: Request, url: URL, models: string[], window: OllamaWindowOptions, loaded: Map<string, number>): Response | Promise<Response> | undefined {
  if (req.method === "GET" && url.pathname === "/api/ps") {
    const ps = models.filter((m) => loaded.has(m) || window.loaded !== undefined).map((name) => ({ name, model: name, size: 1, digest: "x", details: {}, expires_at: "2099-01-01T00:00:00Z", size_vram: 1, context_length: loaded.get(name) ?? window.loaded }));
    return Response.json({ models: ps });
  }
  if (req.method === "POST" && url.pathname === "/api/show") {
    return (async () => {
      const body = (await req.json().catch(() => ({}))) as { model?: string; name?: string };
      const name = body.model ?? body.name;
      if (!name || !models.includes(name)) return Response.json({ error: `model '${name}' not found` }, { status: 404 });
      return Response.json({ parameters: "stop \"<|im_end|>\"", model_info: { "general.architecture": "qwen2", "qwen2.context_length": window.trained }, capabilities: ["completion", "tools"] });
    })();
  }
  return undefined;
}

