/** Health answers classified, case by case; plus the log rotation the probe loop runs. */
import { describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { classifyAnswer, probeService } from "./probe.ts";
import { rotateIfLarge, tailLines } from "./logfile.ts";

const MLX = { status: ["healthy", "warning", "degraded"] };
const KOS = { status: ["healthy"] };

const rows: Array<[name: string, status: number, body: string, expect: Record<string, string[]> | undefined, outcome: string, reason?: RegExp]> = [
  ["2xx without expect is ok", 200, "whatever", undefined, "ok"],
  ["Ollama /api/version is ok", 200, '{"version":"0.33.0"}', undefined, "ok"],
  ["Knowledge OS healthy is ok", 200, '{"status":"healthy","database":"connected"}', KOS, "ok"],
  ["Knowledge OS 200 unhealthy is unhealthy, with its error", 200, '{"status":"unhealthy","error":"db gone"}', KOS, "unhealthy", /"unhealthy".*db gone/],
  ["MLX 200 critical is unhealthy", 200, '{"status":"critical"}', MLX, "unhealthy", /critical/],
  ["MLX warning is ok but degraded", 200, '{"status":"warning"}', MLX, "ok", /warning/],
  ["5xx is the service, unhealthy", 503, "busy", undefined, "unhealthy", /HTTP 503/],
  ["404 is not this service", 404, "404 page not found", MLX, "mismatch", /HTTP 404/],
  ["non-JSON when a field is expected is not this service", 200, "<html>", MLX, "mismatch", /not a JSON object/],
  ["JSON without the expected field is not this service", 200, '{"ok":true}', MLX, "mismatch", /no "status" field/],
];

describe("classifyAnswer", () => {
  for (const [name, status, body, exp, outcome, reason] of rows) {
    test(name, () => {
      const r = classifyAnswer(status, body, exp);
      expect(r.outcome).toBe(outcome as never);
      if (reason) expect("reason" in r ? r.reason : (r as { degraded?: string }).degraded ?? "").toMatch(reason);
    });
  }
});

describe("probeService over sockets", () => {
  test("connection refused is unreachable", async () => {
    const s = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
    const port = s.port;
    s.stop(true);
    expect((await probeService({ health: `http://127.0.0.1:${port}/health`, timeout_s: 1 })).outcome).toBe("unreachable");
  });

  test("a listener that never answers is unhealthy after the timeout", async () => {
    const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    try {
      const r = await probeService({ health: `http://127.0.0.1:${l.port}/health`, timeout_s: 0.2 });
      expect(r).toEqual({ outcome: "unhealthy", reason: "no answer within 200 ms" });
    } finally {
      l.stop(true);
    }
  });

  test("port-only services are probed by TCP connect", async () => {
    const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
    const port = l.port;
    expect((await probeService({ port, timeout_s: 1 })).outcome).toBe("ok");
    l.stop(true);
    expect((await probeService({ port, timeout_s: 1 })).outcome).toBe("unreachable");
  });
});

describe("log rotation", () => {
  test("copy-truncate keeps N old files and leaves the live file empty", () => {
    const dir = mkdtempSync(join(tmpdir(), "atrad-log-"));
    const f = join(dir, "svc.log");
    for (const round of [1, 2, 3, 4]) {
      writeFileSync(f, `round ${round}\n`.repeat(20));
      expect(rotateIfLarge(f, 50, 2)).toBe(true);
    }
    expect(readFileSync(f, "utf8")).toBe("");
    expect(readFileSync(`${f}.1`, "utf8")).toStartWith("round 4");
    expect(readFileSync(`${f}.2`, "utf8")).toStartWith("round 3");
    expect(existsSync(`${f}.3`)).toBe(false);
    expect(rotateIfLarge(f, 50, 2)).toBe(false);
  });

  test("tailLines returns the last lines", () => {
    const f = join(mkdtempSync(join(tmpdir(), "atrad-log-")), "x.log");
    writeFileSync(f, "a\nb\nc\n");
    expect(tailLines(f, 2)).toEqual(["b", "c"]);
    expect(tailLines(f + ".missing", 2)).toEqual([]);
  });
});
