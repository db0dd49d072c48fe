import { expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { bundleUi } from "./bundle.ts";
import { renderPage, statusPage } from "./page.ts";
import { wantsHtml } from "./routes.ts";

const hash = (s: string) => `sha256-${createHash("sha256").update(s).digest("base64")}`;

test("the page is one self-contained document: nothing to load from anywhere", async () => {
  const { html, headers } = await statusPage();
  expect(html).toStartWith("<!doctype html>");
  expect(html).not.toContain("/*JS*/");
  expect(html).not.toContain("/*CSS*/");
  // No external script, stylesheet, font or image: works with no network at all.
  expect(html).not.toMatch(/\b(src|href)\s*=\s*["']?(https?:)?\/\//i);
  expect(html).not.toMatch(/@import|url\(\s*["']?(https?:)?\/\//i);
  const csp = headers["content-security-policy"]!;
  expect(csp).toContain("default-src 'none'");
  expect(csp).toContain("connect-src 'self'");
  const script = /<script>([\s\S]*)<\/script>/.exec(html)![1]!;
  const style = /<style>([\s\S]*)<\/style>/.exec(html)![1]!;
  expect(csp).toContain(hash(script));
  expect(csp).toContain(hash(style));
});

test("inline code cannot close its own tag early", () => {
  const { html } = renderPage({ js: 'var a="</script><b>x</b>";', css: "a::after{content:'</style>'}" });
  expect(html.match(/<\/script>/g)!.length).toBe(1);
  expect(html.match(/<\/style>/g)!.length).toBe(1);
  expect(html).toContain('var a="<\\/script><b>x</b>";');
});

test("the client bundles for the browser, minified", async () => {
  const { js, css } = await bundleUi();
  expect(js).toContain("/atrad/ui/state");
  expect(js).not.toContain("import ");
  expect(css).toContain(":focus-visible");
});

test("only a browser's Accept gets HTML", () => {
  const req = (accept?: string) => new Request("http://x/", accept ? { headers: { accept } } : {});
  expect(wantsHtml(req("text/html,application/xhtml+xml,*/*;q=0.8"))).toBe(true);
  expect(wantsHtml(req("*/*"))).toBe(false);
  expect(wantsHtml(req())).toBe(false);
});
