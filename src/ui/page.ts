/**
 * The status page as one self-contained HTML document held in memory: script and styles are
 * inlined, so there is nothing else to fetch (works offline, and the assets need no auth
 * exemption). A Content-Security-Policy pins the inline code by hash.
 */
import { createHash } from "node:crypto";
import { bundleUi, type UiAssets } from "./bundle.ts";
import { EMBEDDED } from "./embedded.ts";
import shellText from "./client/shell.html" with { type: "text" };

// bun-types describe every .html import as an HTMLBundle; with type "text" it is the file's text.
const shell = shellText as unknown as string;

export interface Page {
  html: string;
  headers: Record<string, string>;
}

const sha256 = (s: string) => `'sha256-${createHash("sha256").update(s).digest("base64")}'`;

export function renderPage(assets: UiAssets): Page {
  // "</" cannot appear inside an inline script or style without ending it early.
  const js = assets.js.replace(/<\/(script)/gi, "<\\/$1");
  const css = assets.css.replace(/<\/(style)/gi, "<\\/$1");
  const html = shell.replace("/*CSS*/", () => css).replace("/*JS*/", () => js);
  const csp = [
    "default-src 'none'",
    `script-src ${sha256(js)}`,
    `style-src ${sha256(css)}`,
    "connect-src 'self'",
    "img-src data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join("; ");
  return {
    html,
    headers: {
      "content-type": "text/html; charset=utf-8",
      "content-security-policy": csp,
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
      "cache-control": "no-cache",
    },
  };
}

let page: Promise<Page> | undefined;

/** Built once per process; a failed build is retried on the next view rather than cached. */
export function statusPage(): Promise<Page> {
  page ??= (EMBEDDED ? Promise.resolve(EMBEDDED) : bundleUi()).then(renderPage, (err) => {
    page = undefined;
    throw err;
  });
  return page;
}
