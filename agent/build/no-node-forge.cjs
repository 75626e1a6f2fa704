/**
 * What the bundle (agent/rolldown.config.mjs) gives adbkit in place of node-forge. adbkit's Client
 * loads its TCP-USB bridge, which loads node-forge for the RSA sums of an adb daemon's auth; the
 * agent talks to an adb server and never opens a bridge or parses an adb key, and running
 * node-forge's module bodies cost ~1.3 MiB of heap. adbkit reads `jsbn.BigInteger` when it loads;
 * any use throws, naming why.
 */
'use strict';

const unavailable = (what) => () => {
  throw new Error(
    `${what}: node-forge is not in farm-agent's bundle (adbkit's TCP-USB bridge and adb key parsing are not used)`,
  );
};
const refuse = (what) =>
  new Proxy({}, { get: (_, key) => unavailable(`${what}.${String(key)}`)() });

module.exports = {
  jsbn: { BigInteger: unavailable('node-forge.jsbn.BigInteger') },
  pki: refuse('node-forge.pki'),
  md: refuse('node-forge.md'),
};
