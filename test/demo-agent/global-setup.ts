// Builds dist/ (tsc -p tsconfig.build.json) so tests can run `node dist/demo-agent/main.js`.
// Usable as a vitest globalSetup (default export) or called from a beforeAll. Skips the build when
// dist/demo-agent is newer than src/demo-agent. Errors in other people's files do not fail it (tsc still
// emits); errors in src/demo-agent or a missing output do.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const DEMO_MAIN = join(ROOT, 'dist/demo-agent/main.js');

const SRC_DIR = join(ROOT, 'src/demo-agent');
const OUT_DIR = join(ROOT, 'dist/demo-agent');

function isFresh(): boolean {
  const sources = readdirSync(SRC_DIR).filter((f) => f.endsWith('.ts'));
  const newestSource = Math.max(...sources.map((f) => statSync(join(SRC_DIR, f)).mtimeMs));
  return sources.every((f) => {
    const out = join(OUT_DIR, f.replace(/\.ts$/, '.js'));
    return existsSync(out) && statSync(out).mtimeMs >= newestSource;
  });
}

export async function ensureDemoAgentBuilt(): Promise<void> {
  if (isFresh()) return;
  const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
  let output = '';
  try {
    await promisify(execFile)(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: ROOT, maxBuffer: 64 << 20 });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string };
    output = `${e.stdout ?? ''}${e.stderr ?? ''}`;
  }
  const ours = output.split('\n').filter((l) => l.startsWith('src/demo-agent/'));
  if (ours.length > 0) throw new Error(`demo agent does not compile:\n${ours.join('\n')}`);
  if (!isFresh()) throw new Error(`build did not produce ${OUT_DIR}:\n${output}`);
}

export default async function setup(): Promise<void> {
  await ensureDemoAgentBuilt();
}
