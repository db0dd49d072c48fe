/**
 * The `victoria` kind's I/O: submit the goal with `POST /run?async_mode=true`,
 * then either use a 200 answer directly or poll the accepted task until it ends. Everything
 * else — request mapping, answer mapping, backoff — is pure and lives beside this file.
 */
import { AtradError } from "../../anthropic/errors.ts";
import type { StreamEvent } from "../../anthropic/types.ts";
import { sessionIdOf } from "../../anthropic/session.ts";
import { estimateTokens } from "../../tokens/count.ts";
import type { Adapter, CallContext, Outcome } from "../types.ts";
import type { VictoriaProvider } from "./spec.ts";
import { errorMessageOf, fetchUpstream, UpstreamError } from "../upstream.ts";
import { readText, tryJson } from "../../wire/body.ts";
import { advance, startPolling, type PollInput } from "./poller.ts";
import { convertStream } from "../../anthropic/converter.ts";
import { normalise } from "../../anthropic/normalise.ts";
import { checkToolChoice, sentText, toRunBody, type RunBody } from "./request.ts";
import { AnswerEvents, answerOf, describeRun, type Ids, type RunResult, type RunUpdate } from "./response.ts";

/** Waits between submit attempts that found Victoria's port closed (she may be restarting). */
export const SUBMIT_RETRY_MS = [500, 1000, 2000];
/** One status request may hang at most this long; the task's own deadline still applies. */
const POLL_REQUEST_TIMEOUT_MS = 30_000;

export const victoriaAdapter: Adapter<VictoriaProvider> = {
  async call(ctx: CallContext<VictoriaProvider>): Promise<Outcome> {
    checkToolChoice(ctx.request);
    const { provider, requestId } = ctx;
    const body = toRunBody(normalise(ctx.request), {
      projectContext: provider.project_context,
      sessionId: sessionIdOf(ctx.headers, ctx.request.metadata),
      maxSteps: provider.max_steps,
    });
    const deadline = Date.now() + provider.timeout_s * 1000;
    const headers = { "x-correlation-id": requestId };
    const ids: Ids = { provider: provider.name, correlationId: requestId };
    const answer = new AnswerEvents(ctx.request.model, estimateTokens(sentText(body)), { stopSequences: ctx.request.stop_sequences, maxTokens: ctx.request.max_tokens });

    const res = await submit(ctx, body);
    const text = res.body ? await readText(res.body, { target: provider.name }).catch(() => "") : "";
    if (res.status === 202) {
      const taskId = (tryJson(text) as { task_id?: unknown } | undefined)?.task_id;
      if (typeof taskId !== "string" || !taskId) {
        throw new AtradError("api_error", `${provider.name} accepted the goal but sent no task_id (${describeRun(ids)}): ${text.slice(0, 200)}`, { status: 502, headers });
      }
      // Accepted: answer now so the gateway commits the 200 and keeps the client alive with pings.
      return { type: "events", headers, events: convertStream(answer, pollTask(ctx, taskId, deadline, { ...ids, taskId })) };
    }
    if (!res.ok) {
      const detail = errorMessageOf(text) || text.slice(0, 300) || res.statusText || "no body";
      throw new UpstreamError(
        res.status,
        `${provider.name} answered ${res.status} (${describeRun(ids)}): ${detail}`,
        { text, contentType: res.headers.get("content-type") ?? "application/json", anthropic: false },
        // Victoria's 429 says when to come back; the client's SDK waits that long.
        res.headers.get("retry-after") ?? undefined,
      );
    }
    const result = tryJson(text) as RunResult | undefined;
    if (!result || typeof result !== "object") {
      throw new UpstreamError(502, `${provider.name} answered 200 with a body that is not a /run result (${describeRun(ids)}): ${text.slice(0, 200)}`);
    }
    const final = answerOf(result, ids);
    // Nothing has reached the client yet, so a failure can still be a proper HTTP error.
    // A 502 like every kind's failed answer (an async task's failure folds into one too).
    if (final.kind === "error") throw new AtradError("api_error", final.message, { status: 502, headers });
    return { type: "events", headers, events: convertStream(answer, [{ type: "answer", answer: final }]) };
  },

  // Victoria has no model list: `victoria` and `victoria/<anything>` all reach the same agent.
  async listModels() {
    return [];
  },
};

/**
 * Submit once, retrying only when the connection was refused: then Victoria never saw the
 * goal. A reset or timeout after sending may mean she did, so those are not retried —
 * submitting a goal twice would run the orchestration twice.
 */
async function submit(ctx: CallContext<VictoriaProvider>, body: RunBody): Promise<Response> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fetchUpstream(
        ctx.provider,
        `${ctx.url}/run?async_mode=true`,
        {
          headers: { "content-type": "application/json", accept: "application/json", "x-correlation-id": ctx.requestId },
          body: JSON.stringify(body),
        },
        ctx.signal,
      );
    } catch (err) {
      const wait = SUBMIT_RETRY_MS[attempt];
      if (!(err instanceof UpstreamError) || !isRefused(err) || wait === undefined) throw err;
      await sleep(wait, ctx.signal);
    }
  }
}

function isRefused(err: UpstreamError): boolean {
  return err.network === "refused";
}

/** The run's progress and answer, polled; a lost task or the deadline is thrown. */
async function* pollTask(ctx: CallContext<VictoriaProvider>, taskId: string, deadline: number, ids: Ids): AsyncGenerator<RunUpdate> {
  const { poll_interval_s, max_poll_interval_s } = ctx.provider;
  const backoff = { initialMs: poll_interval_s * 1000, maxMs: Math.max(poll_interval_s, max_poll_interval_s) * 1000, factor: 2 };
  let { state, step } = startPolling(taskId, deadline, Date.now(), backoff);
  for (;;) {
    switch (step.type) {
      case "wait":
        if (ctx.provider.show_progress) for (const note of step.notes) yield { type: "progress", note: `${note}\n` };
        // The client's abort rejects the sleep (and an in-flight poll): polling stops at once.
        await sleep(step.delayMs, ctx.signal);
        ({ state, step } = advance(state, await pollOnce(ctx, taskId, deadline), Date.now()));
        break;
      case "done":
        yield { type: "answer", answer: answerOf(step.result, ids) };
        return;
      case "lost":
        throw new AtradError("api_error", `${step.message} (${describeRun(ids)})`);
      case "timeout": {
        const s = Math.round(ctx.provider.timeout_s);
        throw new AtradError(
          "timeout_error",
          `${ctx.provider.name} did not finish within ${s}s (${describeRun(ids)}); raise providers.${ctx.provider.name}.timeout_s to wait longer`,
        );
      }
    }
  }
}

async function pollOnce(ctx: CallContext<VictoriaProvider>, taskId: string, deadline: number): Promise<PollInput> {
  const timeoutMs = Math.max(1000, Math.min(POLL_REQUEST_TIMEOUT_MS, deadline - Date.now()));
  try {
    const res = await fetchUpstream(
      { ...ctx.provider, timeout_s: timeoutMs / 1000 },
      `${ctx.url}/run/status/${encodeURIComponent(taskId)}`,
      { method: "GET", headers: { accept: "application/json", "x-correlation-id": ctx.requestId } },
      ctx.signal,
    );
    const text = res.body ? await readText(res.body, { target: ctx.provider.name }) : "";
    if (!res.ok) return { type: "http", status: res.status, detail: errorMessageOf(text) || text.slice(0, 200) };
    const body = tryJson(text);
    if (!body || typeof body !== "object") return { type: "http", status: 502, detail: `status is not JSON: ${text.slice(0, 200)}` };
    return { type: "status", body: body as RunResult };
  } catch (err) {
    if (ctx.signal.aborted) throw err;
    return { type: "network", message: err instanceof Error ? err.message : String(err) };
  }
}



function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
