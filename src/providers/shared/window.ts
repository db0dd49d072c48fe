/**
 * Learning a model's context window from the servers that say it. Each asker returns a
 * positive integer or undefined (the server doesn't say, or isn't there); no failure escapes:
 * an unknown window only means atrad does not check requests against it.
 */
import type { ProviderBase } from "../schema.ts";
import { authHeaders, fetchUpstream, readJson } from "../upstream.ts";

const positive = (x: unknown): number | undefined => (typeof x === "number" && Number.isInteger(x) && x > 0 ? x : undefined);

async function getJson(provider: ProviderBase, url: string, signal: AbortSignal, body?: unknown): Promise<any> {
  try {
    const init = body === undefined ? { method: "GET", headers: authHeaders(provider) } : { headers: { "content-type": "application/json", ...authHeaders(provider) }, body: JSON.stringify(body) };
    const res = await fetchUpstream(provider, url, init, signal);
    if (!res.ok) {
      await res.body?.cancel().catch(() => {});
      return undefined;
    }
    return await readJson(res, url);
  } catch {
    return undefined;
  }
}

/** The same model under Ollama's spellings: "qwen3" is "qwen3:latest". */
const sameOllamaModel = (a: unknown, b: string) => typeof a === "string" && (a === b || a === `${b}:latest` || `${a}:latest` === b);

/**
 * Ollama: the context the model is loaded with (`GET /api/ps` `context_length`), and the
 * trained maximum (`POST /api/show` `model_info["<arch>.context_length"]`), asked only when the
 * model is not loaded.
 */
export async function ollamaWindows(provider: ProviderBase, url: string, model: string, signal: AbortSignal): Promise<{ loaded?: number; trained?: number }> {
  const ps = await getJson(provider, `${url}/api/ps`, signal);
  const loaded = Array.isArray(ps?.models) ? ps.models.find((m: any) => sameOllamaModel(m?.name, model) || sameOllamaModel(m?.model, model)) : undefined;
  const fromPs = positive(loaded?.context_length);
  if (fromPs) return { loaded: fromPs };
  const show = await getJson(provider, `${url}/api/show`, signal, { model });
  const info = show?.model_info;
  if (!info || typeof info !== "object") return {};
  for (const [key, value] of Object.entries(info)) if (key.endsWith(".context_length") && positive(value)) return { trained: value as number };
  return {};
}

/**
 * OpenAI-compatible servers: vLLM's `max_model_len` in `/v1/models`, llama.cpp's `GET /props`
 * `n_ctx` (per slot), LM Studio's `GET /api/v0/models/<id>` loaded (else maximum) context.
 */
export async function openaiWindow(provider: ProviderBase, apiBase: string, model: string, signal: AbortSignal): Promise<number | undefined> {
  const root = apiBase.replace(/\/v1$/, "");
  const models = await getJson(provider, `${apiBase}/models`, signal);
  const entry = Array.isArray(models?.data) ? models.data.find((m: any) => m?.id === model) : undefined;
  const listed = positive(entry?.max_model_len) ?? positive(entry?.context_length) ?? positive(entry?.loaded_context_length);
  if (listed) return listed;
  const props = await getJson(provider, `${root}/props`, signal);
  const nCtx = positive(props?.default_generation_settings?.n_ctx) ?? positive(props?.n_ctx);
  if (nCtx) return nCtx;
  const lms = await getJson(provider, `${root}/api/v0/models/${encodeURIComponent(model)}`, signal);
  return positive(lms?.loaded_context_length) ?? positive(lms?.max_context_length);
}
