/** The precompiled request validators are what TypeBox's compiler makes of today's schemas. */
import { expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { CHECKS_FILE, renderChecks } from "../../scripts/gen-checks.ts";

test("src/gateway/checks.gen.ts is up to date with src/anthropic/schema.ts (else: bun scripts/gen-checks.ts)", () => {
  expect(readFileSync(CHECKS_FILE, "utf8")).toBe(renderChecks());
});

test("the precompiled validators answer as runtime-compiled ones do", async () => {
  const { TypeCompiler } = await import("@sinclair/typebox/compiler");
  const { MessagesRequestSchema, CountTokensRequestSchema } = await import("../../src/anthropic/schema.ts");
  const { precompiledCheck } = await import("../../src/gateway/body.ts");
  const { messagesCheck, countTokensCheck } = await import("../../src/gateway/checks.gen.ts");
  const real = JSON.parse(readFileSync(new URL("../fixtures/claude-code-2.1.330-request.json", import.meta.url), "utf8")).body;
  const samples = [real, { ...real, max_tokens: "x" }, { ...real, messages: [{ role: "robot", content: "x" }] }, {}, null, { model: "m", max_tokens: 1, messages: [] }];
  for (const [schema, factory] of [[MessagesRequestSchema, messagesCheck], [CountTokensRequestSchema, countTokensCheck]] as const) {
    const a = precompiledCheck(schema, factory);
    const b = TypeCompiler.Compile(schema);
    for (const s of samples) expect(a.Check(s)).toBe(b.Check(s));
  }
  expect(precompiledCheck(MessagesRequestSchema, messagesCheck).Check(real)).toBe(true);
});
