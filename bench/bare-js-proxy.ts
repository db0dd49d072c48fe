/**
 * The floor of any relay that looks at what it relays: bare-proxy.ts, except that the upstream
 * body is read chunk by chunk in JS and written out again (a direct stream, Bun's cheapest way to
 * answer with bytes produced in JS), untouched. bare-proxy.ts hands the upstream body to the
 * response natively, which no relay that must end every stream with message_stop or an error
 * event, count usage or send pings over silence can do: the gap between the two is the price of
 * reading the stream at all, before any work of atrad's.
 *   bun bench/bare-js-proxy.ts PORT UPSTREAM_URL
 */
const [port, upstream] = [Number(process.argv[2]), process.argv[3]!];
Bun.serve({
  hostname: "127.0.0.1",
  port,
  async fetch(req) {
    const url = new URL(req.url);
    const r = await fetch(upstream + url.pathname, { method: req.method, headers: { "content-type": "application/json" }, body: await req.arrayBuffer() });
    const headers = { "content-type": r.headers.get("content-type") ?? "application/json" };
    if (!r.body) return new Response(null, { status: r.status, headers });
    const reader = r.body.getReader();
    const body = new ReadableStream({
      type: "direct",
      async pull(out: { write(chunk: Uint8Array): void; flush(): void; close(): void }) {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          out.write(value);
          out.flush();
        }
        out.close();
      },
    } as unknown as UnderlyingDefaultSource<Uint8Array>);
    return new Response(body, { status: r.status, headers });
  },
});
console.log("ready");
export {}; // a module, so its top-level names do not clash with the other bench scripts
