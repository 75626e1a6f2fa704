/**
 * Preloaded (`node --import`) into the farm-agent program: once its first server listens (in
 * `run`, the hook listener), writes that server's port and the npm packages loaded by then as
 * one JSON line on stderr, and exits. The agent runs as a bundle (agent/bundle), so a package is
 * loaded when a chunk carrying it is: a module hook reports every module resolved, and each
 * chunk's source map names the packages in it. Packages still required from node_modules count
 * too.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';

const { port1, port2 } = new MessageChannel();
port1.unref();
register('./record-resolved.mjs', import.meta.url, {
  data: { port: port2 },
  transferList: [port2],
});

const PACKAGE = /node_modules\/((?:@[^/]+\/)?[^/]+)/;

/** The packages in a chunk of the bundle, from its source map; none for any other module. */
function packagesIn(url) {
  if (!url.startsWith('file:') || !url.includes('/agent/bundle/')) return [];
  const mapFile = `${fileURLToPath(url)}.map`;
  // Only the bundler's own runtime chunk (its interop helpers) comes without a map.
  if (!existsSync(mapFile) && url.includes('/rolldown-runtime-')) return [];
  const map = JSON.parse(readFileSync(mapFile, 'utf8'));
  return map.sources.map((source) => PACKAGE.exec(source)?.[1]);
}

const { cache } = createRequire(import.meta.url);
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  net.Server.prototype.listen = listen;
  this.once('listening', () => {
    const resolved = [];
    // Synchronously: every module loaded so far was resolved, and reported, before it loaded.
    for (let m = receiveMessageOnPort(port1); m !== undefined; m = receiveMessageOnPort(port1))
      resolved.push(m.message);
    const packages = [
      ...resolved.flatMap(packagesIn),
      ...Object.keys(cache).map((file) => PACKAGE.exec(file)?.[1]),
    ];
    const loaded = [...new Set(packages.filter((name) => name !== undefined))].sort();
    process.stderr.write(`${JSON.stringify({ port: this.address().port, packages: loaded })}\n`);
    process.exit(0);
  });
  return listen.apply(this, args);
};
