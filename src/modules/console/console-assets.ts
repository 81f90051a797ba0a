import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where the console is served. */
export const CONSOLE_PATH = '/console';

/**
 * The console's built assets: `npm run build` writes them to dist/console (web/, built by Vite), beside dist/src. Run
 * from the sources (the in-process tests), this points to a folder that does not exist, and /console answers 404.
 */
export const CONSOLE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../console');
