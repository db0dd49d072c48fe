import { describe, expect, test } from "bun:test";
import { checkModelName } from "./body.ts";
import { headerText } from "./headers.ts";
import { requestUrl } from "./server.ts";

describe("headerText: any text becomes a header value a Response accepts", () => {
  test.each([
    ["plain ASCII stays", "ollama/qwen2.5-coder:32b", "ollama/qwen2.5-coder:32b"],
    ["NUL and line separator are encoded", "p/m\u0000\u2028", "p/m%00%E2%80%A8"],
    ["non-ASCII is encoded", "p/modèle", "p/mod%C3%A8le"],
    ["a lone surrogate is shown as its code unit", "p/\ud800x", "p/%uD800x"],
    ["CR LF cannot split the header", "a\r\nx-evil: 1", "a%0D%0Ax-evil: 1"],
  ])("%s", (_name, input, expected) => {
    expect(headerText(input)).toBe(expected);
    expect(() => new Headers({ "x-t": headerText(input) })).not.toThrow();
  });
  test("a long value is cut", () => {
    expect(headerText("m".repeat(100_000)).length).toBeLessThanOrEqual(515);
  });
});

describe("checkModelName", () => {
  test.each([
    ["a provider/model id", "ollama/hf.co/org/repo:q4_K_M", undefined],
    ["CJK and emoji are printable", "别名-🦙", undefined],
    ["NUL", "m\u0000", "U+0000"],
    ["DEL", "m\u007f", "U+007F"],
    ["a paragraph separator", "m\u2029", "U+2029"],
    ["a zero-width space (format character)", "m\u200b", "U+200B"],
    ["257 characters", "m".repeat(257), "at most 256"],
  ])("%s", (_name, model, error) => {
    if (error === undefined) expect(() => checkModelName(model)).not.toThrow();
    else expect(() => checkModelName(model)).toThrow(error);
  });
});

describe("requestUrl", () => {
  test.each([
    ["origin form", { url: "/v1/messages?beta=true", headers: { host: "127.0.0.1:8040" } }, "http://127.0.0.1:8040/v1/messages?beta=true"],
    ["absolute form keeps only the path", { url: "http://evil.example/v1/models", headers: { host: "127.0.0.1:8040" } }, "http://127.0.0.1:8040/v1/models"],
    ["no Host: the bound address", { url: "/health", headers: {} }, "http://127.0.0.1:9/health"],
    ["asterisk form", { url: "*", headers: { host: "a" } }, undefined],
    ["a Host that is not a host", { url: "/x", headers: { host: "a b" } }, undefined],
  ])("%s", (_name, req, expected) => {
    expect(requestUrl(req.url, (req.headers as { host?: string }).host, "127.0.0.1", 9)?.href).toBe(expected);
  });
});
