/**
 * POST /v1/messages and /v1/messages/count_tokens: read and check the body at the boundary,
 * then hand the request to its lifecycle (lifecycle.ts), which dispatches and answers. Claude
 * Code sends `?beta=true`: the query is ignored.
 */
import { Elysia } from "elysia";
import { CountTokensRequestSchema, MessagesRequestSchema } from "../anthropic/schema.ts";
import { countRequestTokens } from "../tokens/count.ts";
import { checkModelName, precompiledCheck, readJson } from "./body.ts";
import { countTokensCheck, messagesCheck } from "./checks.gen.ts";
import type { GatewayDeps } from "./deps.ts";
import { errorResponse, newRequestId, serveMessages } from "./lifecycle.ts";

// Generated at build time (scripts/gen-checks.ts): compiling them at start-up cost ~3.6 MB RSS.
const checkMessages = precompiledCheck(MessagesRequestSchema, messagesCheck);
const checkCount = precompiledCheck(CountTokensRequestSchema, countTokensCheck);

export function messagesRoutes(deps: GatewayDeps) {
  return new Elysia({ name: "messages" })
    .post("/v1/messages", ({ request }) => handleMessages(request, deps), { parse: "none" })
    .post("/v1/messages/count_tokens", ({ request }) => handleCount(request, deps), { parse: "none" });
}

async function handleMessages(request: Request, deps: GatewayDeps): Promise<Response> {
  // The id exists before the body is read: a request refused at the boundary carries one too.
  const requestId = newRequestId();
  let body;
  try {
    body = await readJson(request, checkMessages, deps.config().server.max_body_mb * 1024 * 1024);
    checkModelName(body.model);
  } catch (err) {
    return errorResponse(err, requestId);
  }
  return serveMessages(request, body, requestId, deps);
}

async function handleCount(request: Request, deps: GatewayDeps): Promise<Response> {
  const requestId = newRequestId();
  try {
    const body = await readJson(request, checkCount, deps.config().server.max_body_mb * 1024 * 1024);
    checkModelName(body.model);
    return Response.json({ input_tokens: await countRequestTokens(body as never) }, { headers: { "request-id": requestId } });
  } catch (err) {
    return errorResponse(err, requestId);
  }
}
