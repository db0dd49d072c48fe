import { describe, expect, test } from "bun:test";
import { apiBase } from "./adapter.ts";
import { chatFailure, streamErrorMessage } from "./errors.ts";

const res = (status: number, body: string, headers: Record<string, string> = {}) => new Response(body, { status, headers: { "content-type": "application/json", ...headers } });

describe("chatFailure", () => {
  const cases: Array<[string, Response, boolean, number, string, RegExp]> = [
    ["Errors_MlxStringError404IsNotFound", res(404, '{"error": "Repository Not Found"}'), false, 404, "not_found_error", /mlx\/q answered 404: Repository Not Found/],
    ["Errors_OpenAIObjectError400", res(400, '{"error": {"message": "bad max_tokens", "type": "BadRequestError", "code": 400}}'), false, 400, "invalid_request_error", /bad max_tokens/],
    ["Errors_429KeepsRetryAfter", res(429, '{"error": {"message": "slow"}}', { "retry-after": "3" }), false, 429, "rate_limit_error", /slow/],
    ["Errors_503IsOverloaded", res(503, '{"error": "busy"}'), false, 503, "overloaded_error", /busy/],
    ["Errors_PlainText500", res(500, "Internal Server Error"), false, 500, "api_error", /Internal Server Error/],
    ["Errors_ImageRefusalBecomes400NamingProvider", res(404, `{"error": "Only 'text' content type is supported."}`), true, 400, "invalid_request_error", /mlx\/q does not accept images/],
    ["Errors_404WithImagesButOtherCauseStays404", res(404, '{"error": "Repository Not Found"}'), true, 404, "not_found_error", /Repository Not Found/],
  ];
  for (const [name, response, images, status, type, message] of cases) {
    test(name, async () => {
      const err = await chatFailure(response, "mlx/q", images);
      expect(err.status).toBe(status);
      expect(err.errorType).toBe(type as never);
      expect(err.message).toMatch(message);
      expect(err.body?.anthropic).toBe(false);
    });
  }

  test("Errors_RetryAfterRelayed", async () => {
    expect((await chatFailure(res(429, "{}", { "retry-after": "7" }), "p/m", false)).retryAfter).toBe("7");
  });
});

describe("streamErrorMessage", () => {
  const cases: Array<[string, unknown, { status?: number; message: string }]> = [
    ["Errors_StreamStringError", "boom", { message: "boom" }],
    ["Errors_StreamObjectWithNumericCode", { message: "oom", code: 503 }, { status: 503, message: "oom" }],
    ["Errors_StreamObjectWithStringCode", { message: "x", code: "429" }, { status: 429, message: "x" }],
    ["Errors_StreamObjectWithWordCode", { message: "x", code: "server_error" }, { status: undefined, message: "x" }],
    ["Errors_StreamObjectWithoutMessage", { detail: 1 }, { status: undefined, message: '{"detail":1}' }],
  ];
  for (const [name, input, expected] of cases) test(name, () => expect(streamErrorMessage(input)).toEqual(expected));
});

describe("apiBase", () => {
  const cases: Array<[string, string, string]> = [
    ["Adapter_BaseWithoutV1", "http://127.0.0.1:8080", "http://127.0.0.1:8080/v1"],
    ["Adapter_BaseWithV1", "http://127.0.0.1:1234/v1", "http://127.0.0.1:1234/v1"],
    ["Adapter_BaseWithTrailingSlash", "http://h:8000/v1/", "http://h:8000/v1"],
  ];
  for (const [name, url, expected] of cases) test(name, () => expect(apiBase(url)).toBe(expected));
});
