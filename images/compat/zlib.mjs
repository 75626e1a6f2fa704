// node:zlib plus crc32 for Node versions without it (see register.mjs).
import zlib from 'node:zlib';

export * from 'node:zlib';

const TABLE = new Uint32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  TABLE[n] = c >>> 0;
}

/** zlib.crc32(data, value = 0) of Node 20.15+: CRC-32 (IEEE), chainable through `value`. */
function jsCrc32(data, value = 0) {
  const bytes =
    typeof data === 'string'
      ? Buffer.from(data, 'utf8')
      : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  let crc = (value ^ 0xffffffff) >>> 0;
  for (let i = 0; i < bytes.length; i++) crc = TABLE[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

export const crc32 = typeof zlib.crc32 === 'function' ? zlib.crc32 : jsCrc32;
export default zlib;
