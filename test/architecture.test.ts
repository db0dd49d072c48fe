/**
 * The shape of src/: its folders form layers (docs/architecture.md draws them), and a file may
 * import only from its own folder or from a layer below. That rules out import cycles between
 * folders and upward imports, type-only imports included (a cycle of types is still a cycle a
 * reader has to hold in their head). No file under src/ grows past 400 lines, and nothing
 * outside src/providers/ tests a provider kind by name.
 *
 * The repo also stands on its own: no file cites a design document it does not hold, and every
 * file a doc names in backticks exists.
 */
import { describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const ROOT = resolve(import.meta.dir, "..");
const SRC = join(ROOT, "src");
const MAX_LINES = 400;

/**
 * Bottom to top. `(root)` is the files directly in src/ (log.ts, version.ts) that everything
 * may use; main.ts is the executable's entry. A new folder goes where its imports put it.
 */
export const LAYERS = [
  "(root)",
  "anthropic", // the Messages API's own types, errors, SSE events
  "tokens", // token counting
  "wire", // upstream framing: SSE and NDJSON splitting
  "providers", // one folder per kind, and the registry of kinds
  "config", // the config schema (providers' options come from the registry) and loading
  "router", // model name → provider/target, catalogs, limiters, host pools
  "gateway", // the HTTP surface: /v1/messages, /v1/models, guards, the response lifecycle
  "observe", // what the daemon reports: request log, stats, metrics, the status document
  "supervisor", // the supervised services: probes, processes, the state machine
  "platform", // launchd / systemd / background-process plans and their runner
  "ui", // the status page
  "daemon", // composes gateway + router + supervisor + observe + ui into one process
  "cli", // the atrad commands
  "main.ts",
] as const;

export interface Violation {
  file: string;
  line: number;
  message: string;
}

const IMPORT = /\bfrom\s*["'](\.{1,2}\/[^"']*)["']|\bimport\s*\(\s*["'](\.{1,2}\/[^"']*)["']\s*\)|\bimport\s+["'](\.{1,2}\/[^"']*)["']/g;

/** src-relative path → its layer: the first path segment, `(root)` for files directly in src/. */
function layerOf(rel: string): string {
  if (rel === "main.ts") return "main.ts";
  return rel.includes("/") ? rel.split("/")[0]! : "(root)";
}

/** Every relative import of every file: [importing file, line, imported file], src-relative. */
export function importsOf(files: Map<string, string>): Array<[string, number, string]> {
  const out: Array<[string, number, string]> = [];
  for (const [file, source] of files) {
    for (const m of source.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2] ?? m[3]!;
      const target = relative(SRC, resolve(SRC, dirname(file), spec));
      if (target.startsWith("..")) continue; // outside src/ (package.json, the plist template)
      out.push([file, source.slice(0, m.index).split("\n").length, target]);
    }
  }
  return out;
}

/** Upward imports, folders missing from LAYERS, and (should LAYERS ever allow one) cycles. */
export function layeringViolations(files: Map<string, string>, layers: readonly string[] = LAYERS): Violation[] {
  const rank = new Map(layers.map((l, i) => [l, i]));
  const out: Violation[] = [];
  const edges = new Map<string, Map<string, [string, number]>>();
  for (const file of files.keys()) {
    const layer = layerOf(file);
    if (!rank.has(layer)) out.push({ file, line: 1, message: `src/${layer}/ is not in the layer list of test/architecture.test.ts: place it there (and in docs/architecture.md)` });
  }
  for (const [file, line, target] of importsOf(files)) {
    const from = layerOf(file);
    const to = layerOf(target);
    if (from === to || !rank.has(from) || !rank.has(to)) continue;
    if (!edges.has(from)) edges.set(from, new Map());
    if (!edges.get(from)!.has(to)) edges.get(from)!.set(to, [file, line]);
    if (rank.get(to)! > rank.get(from)!)
      out.push({ file, line, message: `${from} imports ${target}, but ${to} is above ${from}: move what both need down, or pass it in from above` });
  }
  for (const cycle of folderCycles(edges)) {
    const [file, line] = edges.get(cycle[0]!)!.get(cycle[1]!)!;
    out.push({ file, line, message: `import cycle between folders: ${cycle.join(" → ")}` });
  }
  return out;
}

/** Each elementary cycle found by a depth-first walk, as [a, b, …, a]. */
function folderCycles(edges: Map<string, Map<string, unknown>>): string[][] {
  const found: string[][] = [];
  const seen = new Set<string>();
  const walk = (node: string, path: string[]) => {
    for (const next of edges.get(node)?.keys() ?? []) {
      const at = path.indexOf(next);
      if (at >= 0) {
        const cycle = [...path.slice(at), next];
        const key = [...cycle.slice(0, -1)].sort().join(",");
        if (!seen.has(key)) (seen.add(key), found.push(cycle));
      } else walk(next, [...path, next]);
    }
  };
  for (const start of edges.keys()) walk(start, [start]);
  return found;
}

function sourceFiles(dir = SRC): Map<string, string> {
  const out = new Map<string, string>();
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) for (const [k, v] of sourceFiles(path)) out.set(k, v);
    else if (/\.tsx?$/.test(name)) out.set(relative(SRC, path), readFileSync(path, "utf8"));
  }
  return out;
}

/** Built in pieces so that this file does not cite itself. */
const CITATIONS = ["DESIGN" + " §", "DESIGN" + ".md"];

/** Lines that cite the design document that lives outside the repo: state the fact instead. */
export function citations(files: Map<string, string>): string[] {
  return [...files].flatMap(([file, text]) =>
    text.split("\n").flatMap((line, i) => (CITATIONS.some((c) => line.includes(c)) ? [`${file}:${i + 1}: ${line.trim()}`] : [])),
  );
}

/**
 * The repo files a doc names in backticks: `src/…`, `test/…`, `bench/…`, `scripts/…`, `docs/…`
 * with an extension, and src-relative ones under a layer's folder (`gateway/app.ts`).
 * Placeholders and globs (`src/cli/<name>.ts`, `test/x/*.ts`) and folders are not files: skipped.
 */
export function namedPaths(doc: string): string[] {
  const folders = new Set<string>(LAYERS.filter((l) => !l.includes(".") && !l.startsWith("(")));
  const out = new Set<string>();
  for (const [, span] of doc.matchAll(/`([^`\s]+)`/g)) {
    if (!/^[\w.\/-]+\.\w+$/.test(span!) || span!.includes("..")) continue;
    const first = span!.split("/")[0]!;
    if (["src", "test", "bench", "scripts", "docs"].includes(first) && span!.includes("/")) out.add(span!);
    else if (folders.has(first) && /\.tsx?$/.test(span!)) out.add(`src/${span}`);
  }
  return [...out];
}

/** Every text file under the given repo folders, repo-relative path → contents. */
function repoFiles(dirs: string[]): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (name === "node_modules") continue;
      if (statSync(path).isDirectory()) walk(path);
      else {
        const text = readFileSync(path, "utf8");
        if (!text.includes("\0")) out.set(relative(ROOT, path), text);
      }
    }
  };
  for (const d of dirs) if (existsSync(join(ROOT, d))) walk(join(ROOT, d));
  return out;
}

const format = (vs: Violation[]) => vs.map((v) => `src/${v.file}:${v.line}: ${v.message}`).join("\n");

describe("the checker itself", () => {
  const tree = new Map([
    ["gateway/app.ts", `import { uiRoutes } from "../ui/routes.ts";\nimport type { X } from "./deps.ts";`],
    ["ui/routes.ts", `import type { GatewayDeps } from "../gateway/deps.ts";`],
    ["router/router.ts", `const m = await import("../config/load.ts");`],
    ["config/load.ts", `export { a } from "../router/a.ts";\nimport "../anthropic/side-effect.ts";`],
    ["anthropic/side-effect.ts", ``],
    ["newfolder/x.ts", `import { VERSION } from "../version.ts";`],
  ]);
  const found = layeringViolations(tree, ["(root)", "anthropic", "config", "router", "gateway", "ui"]);

  test("finds upward imports of every import form, with file and line", () => {
    expect(found.filter((v) => v.message.includes("is above")).map((v) => [v.file, v.line])).toEqual([
      ["gateway/app.ts", 1],
      ["config/load.ts", 1],
    ]);
  });
  test("finds folder cycles, type imports and dynamic imports included", () => {
    expect(found.filter((v) => v.message.startsWith("import cycle")).map((v) => v.message)).toEqual([
      "import cycle between folders: gateway → ui → gateway",
      "import cycle between folders: router → config → router",
    ]);
  });
  test("names a folder that is not placed in a layer", () => {
    expect(found.filter((v) => v.message.includes("not in the layer list")).map((v) => v.file)).toEqual(["newfolder/x.ts"]);
  });
  test("finds a design-document citation by file and line", () => {
    const planted = new Map([["src/a.ts", `// ok\n// see ${"DESIGN"} §4.2\n`], ["test/b.ts", `/* per ${"DESIGN"}.md */`], ["src/c.ts", "// designed so"]]);
    expect(citations(planted).map((c) => c.split(": ")[0])).toEqual(["src/a.ts:2", "test/b.ts:1"]);
  });
  test("reads the file paths a doc names, src-relative ones included, placeholders not", () => {
    const doc = "`src/a/b.ts` `gateway/app.ts` `test/x.test.ts` `src/cli/<name>.ts` `src/providers/` `test/r/*.ts` `adapter.ts` `foo/bar.ts` `ATRAD_HOME`";
    expect(namedPaths(doc)).toEqual(["src/a/b.ts", "src/gateway/app.ts", "test/x.test.ts"]);
  });
});

describe("src/", () => {
  const files = sourceFiles();

  test("every import goes to the same folder or a layer below; no cycles between folders", () => {
    // Tests beside their modules may set up with anything; the layering is about the product.
    const product = new Map([...files].filter(([f]) => !f.endsWith(".test.ts")));
    expect(product.size).toBeGreaterThan(50);
    expect(format(layeringViolations(product))).toBe("");
  });

  test('no `kind === "…"` outside src/providers/: code asks the kind\'s spec (providers/registry.ts)', () => {
    const tests = [...files].filter(([f]) => !f.startsWith("providers/")).flatMap(([f, s]) => s.split("\n").flatMap((l, i) => (/\bkind\s*[!=]==?\s*["'`]/.test(l) ? [`src/${f}:${i + 1}: ${l.trim()}`] : [])));
    expect(tests).toEqual([]);
  });

  test(`no file over ${MAX_LINES} lines`, () => {
    const long = [...files].map(([f, s]) => [f, s.split("\n").length - (s.endsWith("\n") ? 1 : 0)] as const).filter(([, n]) => n > MAX_LINES);
    expect(long.map(([f, n]) => `src/${f}: ${n} lines`)).toEqual([]);
  });
});

describe("the repo stands on its own", () => {
  test("no file under src/, test/, bench/, scripts/ cites the design document: comments state the fact", () => {
    const files = repoFiles(["src", "test", "bench", "scripts"]);
    expect(files.size).toBeGreaterThan(100);
    expect(citations(files)).toEqual([]);
  });

  test("every file a doc names in backticks exists", () => {
    const docs = readdirSync(ROOT).filter((f) => f.endsWith(".md")).concat(readdirSync(join(ROOT, "docs")).filter((f) => f.endsWith(".md")).map((f) => `docs/${f}`));
    expect(docs).toContain("docs/architecture.md");
    const named = docs.flatMap((doc) => namedPaths(readFileSync(join(ROOT, doc), "utf8")).map((p) => [doc, p] as const));
    expect(named.length).toBeGreaterThan(30);
    expect(named.filter(([, p]) => !existsSync(join(ROOT, p))).map(([doc, p]) => `${doc} names ${p}, which does not exist`)).toEqual([]);
  });
});
