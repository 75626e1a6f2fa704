/**
 * Preloaded (`node --import`) into the farm-agent program: once its first server listens (in
 * `run`, the hook listener), writes that server's port and the npm packages loaded by then as
 * one JSON line on stderr, and exits.
 */
import { createRequire } from 'node:module';
import net from 'node:net';

const { cache } = createRequire(import.meta.url);
const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function (...args) {
  net.Server.prototype.listen = listen;
  this.once('listening', () => {
    const packages = Object.keys(cache).map(
      (file) => /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file)?.[1],
    );
    const loaded = [...new Set(packages.filter((name) => name !== undefined))].sort();
    process.stderr.write(`${JSON.stringify({ port: this.address().port, packages: loaded })}\n`);
    process.exit(0);
  });
  return listen.apply(this, args);
};
