/**
 * Secrets written into URLs (`http://user:PASSWORD@host`) are masked wherever atrad shows the
 * config or its status: the status document (`/atrad/status`, the status page, `atrad status
 * --json`), `atrad config print`, and the daemon log. One function, in the bottom layer so the
 * log can use it too, so no place can mask differently or forget a form.
 */

// scheme://user:password@ — the password is whatever runs up to the last "@" without leaving the
// authority (no "/", whitespace or quote), so a URL inside an error message is masked too.
const USERINFO_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/[^\s/?#@:"'<>]*:)[^\s/?#"'<>]+@/gi;

/** `text` with the password of every URL in it replaced by `***`. */
export function maskUrl(text: string): string {
  return text.includes("@") ? text.replace(USERINFO_PASSWORD, "$1***@") : text;
}

/** A copy of a JSON-shaped value with maskUrl applied to every string in it. */
export function maskUrls<T>(value: T): T {
  if (typeof value === "string") return maskUrl(value) as T;
  if (Array.isArray(value)) return value.map(maskUrls) as T;
  if (value && typeof value === "object") return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskUrls(v)])) as T;
  return value;
}
