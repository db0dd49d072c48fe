/// <reference lib="dom" />
/**
 * A ten-line hyperscript: every piece of data reaches the page as a text node, never as
 * markup, because model names and error messages come from clients and upstreams.
 */
type Child = Node | string | number | null | undefined | false;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Record<string, string | number | boolean | undefined> | null, ...kids: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) if (v !== undefined && v !== false) el.setAttribute(k, v === true ? "" : String(v));
  for (const kid of kids) if (kid !== null && kid !== undefined && kid !== false) el.append(typeof kid === "object" ? kid : String(kid));
  return el;
}

const SVG = "http://www.w3.org/2000/svg";

export function svg(tag: string, attrs: Record<string, string | number>, ...kids: Node[]): SVGElement {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  el.append(...kids);
  return el;
}
