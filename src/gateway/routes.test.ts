import { describe, expect, test } from "bun:test";
import { routeTable, toResponse, type Route } from "./routes.ts";

const route = (method: Route["method"], path: string): Route => ({ method, path, handler: () => path });
const table = routeTable([
  route("GET", "/health"),
  route("POST", "/v1/messages"),
  route("POST", "/v1/messages/count_tokens"),
  route("HEAD", "/"),
  route("GET", "/"),
  route("GET", "/atrad/sessions/:id"),
  route("POST", "/atrad/services/:name/:action"),
  route("GET", "/v1/models"),
  route("GET", "/v1/models/*"),
]);
const hit = (method: string, path: string) => {
  const m = table(method, path);
  return m && { path: m.route.path, method: m.route.method, params: m.params };
};

describe("routeTable", () => {
  test("exact paths, by method", () => {
    expect(hit("POST", "/v1/messages")?.path).toBe("/v1/messages");
    expect(hit("POST", "/v1/messages/count_tokens")?.path).toBe("/v1/messages/count_tokens");
    expect(hit("GET", "/v1/messages")).toBeUndefined();
    expect(hit("PUT", "/health")).toBeUndefined();
    expect(hit("GET", "/V1/MODELS")).toBeUndefined();
  });
  test("one trailing slash is the same path; / stays /", () => {
    expect(hit("GET", "/health/")?.path).toBe("/health");
    expect(hit("GET", "/")?.path).toBe("/");
    expect(hit("GET", "//health")).toBeUndefined();
  });
  test("HEAD takes its own route, else the GET one", () => {
    expect(hit("HEAD", "/")?.method).toBe("HEAD");
    expect(hit("HEAD", "/health")?.method).toBe("GET");
    expect(hit("HEAD", "/v1/messages")).toBeUndefined();
  });
  test(":name segments are one non-empty segment, %-decoded", () => {
    expect(hit("GET", "/atrad/sessions/s%201")?.params).toEqual({ id: "s 1" });
    expect(hit("GET", "/atrad/sessions/")).toBeUndefined();
    expect(hit("GET", "/atrad/sessions/a/b")).toBeUndefined();
    expect(hit("POST", "/atrad/services/ollama/start")?.params).toEqual({ name: "ollama", action: "start" });
    expect(() => table("GET", "/atrad/sessions/%E0%A4%A")).toThrow(URIError);
  });
  test("* is the rest of the path as sent", () => {
    expect(hit("GET", "/v1/models/x/a%2Fb")?.params).toEqual({ "*": "x/a%2Fb" });
    expect(hit("GET", "/v1/models/")?.path).toBe("/v1/models");
  });
});

describe("toResponse", () => {
  test("values become JSON, strings text, Responses pass through", async () => {
    const json = toResponse({ a: 1 });
    expect(json.headers.get("content-type")).toBe("application/json;charset=utf-8");
    expect(await json.json()).toEqual({ a: 1 });
    expect(toResponse("hi").headers.get("content-type")).toBe("text/plain;charset=utf-8");
    const r = new Response("x", { status: 201 });
    expect(toResponse(r)).toBe(r);
  });
});
