/**
 * A second floor: the same pass-through proxy as bare-proxy.ts, on Bun's node:http server instead
 * of Bun.serve. atrad's gateway is node:http (for what a client can send that Bun.serve answers
 * on its own, see src/gateway/server.ts), so this is what that choice alone costs per request.
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
