/**
 * The status page's built assets inside the compiled executable. scripts/build.ts passes them
 * to `bun build --compile` as `--define __ATRAD_UI__=…`; in the source tree the name is not
 * defined, EMBEDDED is null, and page.ts builds the page on demand.
 */
import type { UiAssets } from "./bundle.ts";

declare const __ATRAD_UI__: UiAssets | undefined;

export const EMBEDDED: UiAssets | null = typeof __ATRAD_UI__ === "undefined" ? null : __ATRAD_UI__;
