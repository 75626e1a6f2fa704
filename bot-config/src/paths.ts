import { fileURLToPath } from 'node:url';

/**
 * Files shipped beside the compiled code (`dist/` and `src/` are siblings of
 * `shims/` and `python/`, so one relative path serves both).
 */
export const SHIM_DIR = fileURLToPath(new URL('../shims', import.meta.url));
export const BOT_CONFIG_PY = fileURLToPath(new URL('../python/bot_config.py', import.meta.url));
