/**
 * Where a `bun --cpu-prof` profile's busy time went, by source file (native frames charged to
 * the nearest JS file that called them) and by function:
 *   bun bench/profile-summary.ts PROFILE.cpuprofile [TOP]
 * Samples are weighted by their time delta capped at 2 ms: the profile's own time deltas charge a
 * whole idle gap to the first sample after it (Bun's `--cpu-prof-md` table showed a sleeping
 * daemon's `Socket` constructor or `orShutdown` as 40-55 % "self time").
 */
const [file, topArg] = process.argv.slice(2);
if (!file) throw new Error("usage: bun bench/profile-summary.ts PROFILE.cpuprofile [TOP]");
const top = Number(topArg ?? 40);
interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
const p = JSON.parse(await Bun.file(file).text()) as { nodes: Node[]; samples: number[]; timeDeltas: number[] };
const nodes = new Map(p.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const weight = new Map<number, number>();
p.samples.forEach((id, i) => weight.set(id, (weight.get(id) ?? 0) + Math.min(p.timeDeltas[i] ?? 0, 2000)));

const short = (url: string) => url.replace(/^file:\/\//, "").replace(`${process.cwd()}/`, "");
const byFile = new Map<string, number>();
const byFunction = new Map<string, number>();
let busy = 0;
for (const [id, t] of weight) {
  const leaf = nodes.get(id)!;
  if (leaf.callFrame.functionName === "(idle)" || leaf.callFrame.functionName === "(program)") continue;
  busy += t;
  let native = "";
  let at: number | undefined = id;
  let where = "(runtime)";
  while (at !== undefined) {
    const n = nodes.get(at)!;
    if (n.callFrame.url) {
      where = short(n.callFrame.url);
      break;
    }
    native ||= n.callFrame.functionName;
    at = parent.get(at);
  }
  const k = native && where !== "(runtime)" ? `${where} [native ${native}]` : where;
  byFile.set(k, (byFile.get(k) ?? 0) + t);
  const f = `${leaf.callFrame.functionName || "(anonymous)"} ${short(leaf.callFrame.url)}:${leaf.callFrame.lineNumber + 1}`;
  byFunction.set(f, (byFunction.get(f) ?? 0) + t);
}
// Inclusive: each sample charged once to every distinct function on its stack (where the time went, callees included).
const inclusive = new Map<string, number>();
for (const [id, t] of weight) {
  const leaf = nodes.get(id)!;
  if (leaf.callFrame.functionName === "(idle)" || leaf.callFrame.functionName === "(program)") continue;
  const seen = new Set<string>();
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const c = nodes.get(at)!.callFrame;
    if (!c.url) continue;
    seen.add(`${c.functionName || "(anonymous)"} ${short(c.url)}:${c.lineNumber + 1}`);
  }
  for (const k of seen) inclusive.set(k, (inclusive.get(k) ?? 0) + t);
}
const show = (title: string, m: Map<string, number>) => {
  console.log(`\n${title}`);
  for (const [k, v] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${((v / busy) * 100).toFixed(1).padStart(5)} %  ${k}`);
};
console.log(`busy ${(busy / 1000).toFixed(0)} ms of samples`);
show("by file (native frames charged to their JS caller)", byFile);
show("by function (self)", byFunction);
show("by JS function (inclusive: callees included)", inclusive);
export {}; // a module, so its top-level names do not clash with the other bench scripts
