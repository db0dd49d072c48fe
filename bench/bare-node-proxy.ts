/**
 * A third floor: the pass-through proxy of bare-js-proxy.ts (the upstream body read and written in
 * JS) on Bun's node:http server instead of Bun.serve. atrad's gateway was node:http until it moved
 * to Bun.listen (src/gateway/server.ts says why); this keeps what that server costs in view.
 *   bun bench/bare-node-proxy.ts PORT UPSTREAM_URL
 */
import { createServer } from "node:http";

const [port, upstream] = [Number(process.argv[2]), process.argv[3]!];
createServer(async (req, res) => {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const r = await fetch(upstream + req.url, { method: req.method, headers: { "content-type": "application/json" }, body: req.method === "GET" ? undefined : Buffer.concat(chunks) });
  res.writeHead(r.status, { "content-type": r.headers.get("content-type") ?? "application/json" });
  if (r.body) for await (const c of r.body) res.write(c);
  res.end();
}).listen(port, "127.0.0.1", () => console.log("ready"));
