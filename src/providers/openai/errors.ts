/**
 * OpenAI-compatible servers' errors → UpstreamError (before the 200) or a message (after it).
 * Shapes seen: mlx_lm.server `{"error": "<str(exception)>"}` — with HTTP 404 for anything that
 * fails while setting up generation, a missing model and an image part alike; OpenAI/vLLM/
 * LM Studio `{"error": {"message", "type", "code"}}`; FastAPI `{"detail"}`; plain text.
 * The gateway turns an UpstreamError into the Anthropic envelope whose type follows the status.
 */
import { errorMessageOf, upstreamFailure, UpstreamError } from "../upstream.ts";
import { overflowOf, promptTooLong } from "../shared/overflow.ts";

// mlx_lm.server: "Only 'text' content type is supported."; vLLM / LM Studio / llama.cpp word
// it around "image" or "multimodal".
const REJECTS_IMAGES = /content type is supported|image|multimodal|vision/i;

/** A non-2xx answer to POST /v1/chat/completions. */
export async function chatFailure(res: Response, label: string, sentImages: boolean, promptTokens = 0): Promise<UpstreamError> {
  const err = await upstreamFailure(res, label, false);
  // llama.cpp's 400, vLLM's 400, LM Studio's 500: one overflow, in the words Claude Code compacts on.
  const overflow = overflowOf(err.body?.text ?? "", promptTokens);
  if (overflow) return promptTooLong(...overflow);
  const detail = errorMessageOf(err.body?.text ?? "") ?? "";
  if (sentImages && res.status < 500 && REJECTS_IMAGES.test(detail)) {
    // Not a missing model (mlx_lm.server says 404): the request itself cannot be served here,
    // so it is the client's 400 and no fallback target should be tried for a 404.
    return new UpstreamError(400, `${label} does not accept images (it answered ${res.status}: ${detail}); send text only or route this model to a vision-capable provider`, err.body);
  }
  return err;
}

/** The `error` member of a chunk sent after the 200: a string or `{message, code}`. */
export function streamErrorMessage(error: unknown): { status?: number; message: string } {
  if (typeof error === "string") return { message: error };
  if (error && typeof error === "object") {
    const e = error as { message?: unknown; code?: unknown; type?: unknown };
    const code = typeof e.code === "number" ? e.code : typeof e.code === "string" && /^\d{3}$/.test(e.code) ? Number(e.code) : undefined;
    const message = typeof e.message === "string" ? e.message : JSON.stringify(error);
    return { status: code, message };
  }
  return { message: String(error) };
}
