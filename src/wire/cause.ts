/**
 * Network failures in atrad's words. The runtime's own messages name a socket error code and
 * give advice meant for whoever wrote the fetch call ("pass `verbose: true` …"); a user reading
 * a failed request needs what happened, in plain words, next to the target that failed.
 */

const BY_CODE: Record<string, string> = {
  ECONNREFUSED: "connection refused",
  ConnectionRefused: "connection refused",
  ECONNRESET: "the connection was closed before the answer was complete",
  EPIPE: "the connection was closed while the request was being sent",
  ENOTFOUND: "its host name does not resolve",
  EAI_AGAIN: "its host name could not be resolved (DNS unavailable)",
  ETIMEDOUT: "the connection timed out",
  EHOSTUNREACH: "its host is unreachable",
  ENETUNREACH: "its network is unreachable",
  ECONNABORTED: "the connection was aborted",
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: "its TLS certificate could not be verified",
  CERT_HAS_EXPIRED: "its TLS certificate has expired",
  DEPTH_ZERO_SELF_SIGNED_CERT: "its TLS certificate is self-signed",
  ERR_TLS_CERT_ALTNAME_INVALID: "its TLS certificate is for another host name",
};

/** What went wrong on the wire, without runtime hints (empty string when nothing is known). */
export function plainCause(err: unknown): string {
  const e = (err ?? {}) as { code?: unknown; message?: unknown; name?: unknown };
  const code = typeof e.code === "string" ? e.code : /^([A-Z][A-Z_]+):/.exec(String(e.message ?? ""))?.[1];
  if (code && BY_CODE[code]) return BY_CODE[code];
  if (e.name === "TimeoutError") return "it timed out";
  const message = String(e.message ?? err ?? "");
  if (/Unable to connect/i.test(message)) return "connection refused";
  if (/closed unexpectedly|socket hang up/i.test(message)) return BY_CODE.ECONNRESET!;
  if (/Malformed_HTTP_Response|malformed|invalid HTTP/i.test(message)) return "it answered with something that is not HTTP";
  if (/decompress|zlib|gzip|brotli/i.test(message)) return "its compressed body is corrupt";
  // Unknown: keep the runtime's first sentence, minus any advice addressed to a programmer.
  return message.replace(/\s*For more information, pass `verbose: true`.*$/s, "").replace(/^[A-Z][A-Z_]+:\s*/, "").trim() || "unknown network error";
}
