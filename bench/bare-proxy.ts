/**
 * The runtime's floor: the smallest Bun pass-through proxy there is. It forwards each request to
 * the stand-in and pipes the upstream body back untouched — no parsing, no translation, no
 * logging. Whatever atrad costs above this is atrad's own work, not Bun's fetch or socket code.
 *   bun bench/bare-proxy.ts PORT UPSTREAM_URL
 */
const [port, upstream] = [Number(process.argv[2]), process.argv[3]!];
Bun.serve({
  hostname: "127.0.0.1",
  port,
  async fetch(req) {
    const url = new URL(req.url);
    const r = await fetch(upstream + url.pathname, { method: req.method, headers: { "content-type": "application/json" }, body: await req.arrayBuffer() });
    return new Response(r.body, { status: r.status, headers: { "content-type": r.headers.get("content-type") ?? "application/json" } });
  },
});
console.log("ready");
export {}; // a module, so its top-level names do not clash with the other bench scripts
