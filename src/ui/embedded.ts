/**
 * The status page's built assets inside the compiled executable. In the source tree this is
 * null (page.ts then builds on demand); scripts/build.ts writes the built text here for the
 * length of `bun build --compile` and puts this file back afterwards.
 */
import type { UiAssets } from "./bundle.ts";

export const EMBEDDED: UiAssets | null = null;
