// Builds dist/ once before the suite (tsc, then the bundled executable): the end-to-end, failpoint, smoke and demo-agent tests run the
// compiled binary exactly as operators do. A type error anywhere fails the run here, with tsc's output.
import { execFileSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DIST = join(ROOT, 'dist');
export const BIN = join(DIST, 'cli/bin.js');
export const SMOKE = join(DIST, 'scripts/smoke.js');
export const DEMO_MAIN = join(DIST, 'demo-agent/main.js');

export default function setup(): void {
  const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
  // As `npm run build`: tsc, then the bundle that replaces dist/cli/bin.js (the executable operators run).
  const steps = [[tsc, '-p', 'tsconfig.build.json'], [join(DIST, 'scripts/bundle.js')]];
  for (const argv of steps) {
    try {
      execFileSync(process.execPath, argv, { cwd: ROOT, stdio: 'pipe' });
    } catch (e) {
      const err = e as { stdout?: Buffer; stderr?: Buffer };
      throw new Error(`build failed:\n${String(err.stdout ?? '')}${String(err.stderr ?? '')}`);
    }
  }
}
