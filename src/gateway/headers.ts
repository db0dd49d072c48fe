/**
 * Response header values built from text atrad did not write (a model name a provider reported,
 * a route target): a header value must be visible ASCII, so anything else is percent-encoded,
 * and a value is cut at a length every client parses. A `Response` never refuses them.
 */
const MAX = 512;

export function headerText(text: string): string {
  const clipped = text.length > MAX ? text.slice(0, MAX) : text;
  const safe = /^[\x20-\x7e]*$/.test(clipped) ? clipped : clipped.replace(/[^\x20-\x7e]/gu, percent);
  return clipped === text ? safe : `${safe}...`;
}

function percent(c: string): string {
  try {
    return encodeURIComponent(c);
  } catch {
    // A lone surrogate has no UTF-8 form.
    return `%u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}`;
  }
}
