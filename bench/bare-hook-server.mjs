/**
 * The hook round trip's floor: a bare node:http server on loopback answering each hook the shim
 * calls with a minimal valid answer (the request's JSON parsed, an answer serialised), and
 * nothing else. Prints its port on stdout. Run by bench/sections/hooks.ts.
 */
import { createServer } from 'node:http';

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (chunk) => chunks.push(chunk));
  req.on('end', () => {
    const hook = (req.url ?? '').slice(1);
    const body = chunks.length > 0 ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {};
    const botId = req.headers['x-farm-bot-id'];
    const answer =
      hook === 'healthz'
        ? { ok: true }
        : hook === 'get_dimensions'
          ? { ...body, id: [botId] }
          : hook === 'on_before_task'
            ? { ready: true }
            : body;
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
  });
});
server.listen(0, '127.0.0.1', () => console.log(server.address().port));
process.on('SIGTERM', () => process.exit(0));
