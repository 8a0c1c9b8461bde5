import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** How far above a module the package root may be: dist/src/check/ is three levels down. */
const MAX_LEVELS = 4;

/**
 * The directory holding pfasciilogd's own package.json: the nearest one above
 * the module `from` (default: this one). The code runs from two layouts,
 * tsc's dist/src/... (the tests) and the bundle's dist/bin/ (what is
 * installed), so a fixed relative path would be right for only one of them.
 * The name is checked so that some other project's package.json above an
 * unusual install is never taken for ours.
 */
export function packageRoot(from: string = fileURLToPath(import.meta.url)): string | undefined {
  let dir = dirname(from);
  for (let i = 0; i <= MAX_LEVELS; i++) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: unknown };
      if (pkg.name === 'pfasciilogd') return dir;
    } catch {
      // none here, or not JSON: look one level up
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return undefined;
}
