// Module resolve hook registered by register.mjs: `node:zlib` (or `zlib`)
// imported by anything but the shim itself resolves to the shim.
const SHIM = new URL('./zlib.mjs', import.meta.url).href;

export async function resolve(specifier, context, nextResolve) {
  if ((specifier === 'node:zlib' || specifier === 'zlib') && context.parentURL !== SHIM) {
    return { url: SHIM, shortCircuit: true };
  }
  return nextResolve(specifier, context);
}
