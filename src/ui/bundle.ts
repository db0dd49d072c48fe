/**
 * Build the page's script and stylesheet with Bun.build. scripts/build.ts runs this before
 * `bun build --compile` and embeds the result (embedded.ts); `bun run`/`bun test` call it
 * lazily on the first page view, so a source checkout needs no build step.
 */
import type { BuildArtifact } from "bun";
import { join } from "node:path";

export interface UiAssets {
  js: string;
  css: string;
}

const CLIENT = join(import.meta.dir, "client");
/** Bun's name for the artifact built from an entrypoint (not a chunk or an asset). */
const ENTRY_POINT: BuildArtifact["kind"] = "entry-point";

export async function bundleUi(): Promise<UiAssets> {
  const result = await Bun.build({
    entrypoints: [join(CLIENT, "main.ts"), join(CLIENT, "style.css")],
    target: "browser",
    // An inline classic script: no module loader, no second request.
    format: "iife",
    minify: true,
  });
  if (!result.success) throw new Error(`building the status page failed:\n${result.logs.join("\n")}`);
  const js = result.outputs.find((o) => o.kind === ENTRY_POINT && o.path.endsWith(".js"));
  const css = result.outputs.find((o) => o.path.endsWith(".css"));
  if (!js || !css) throw new Error(`building the status page produced ${result.outputs.map((o) => o.path).join(", ")}`);
  return { js: await js.text(), css: await css.text() };
}
