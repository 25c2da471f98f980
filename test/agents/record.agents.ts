// `npm run test:agents`: install the real agent CLIs if missing, run each offline in tmux, record its
// screens into test/fixtures/screens/ (refreshing them for the installed version) and check every recorded
// screen reads as the state the scenario expects under the built-in profile.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, onTestFinished, test } from 'vitest';
import { agentProfiles } from '../../src/core/profiles.js';
import { classifyScreen } from '../../src/core/screen.js';
import { CONFIG } from '../core/builders.js';
import { fixtureHeader, SCREENS_DIR } from '../helpers/screen-fixtures.js';
import { agentVersion, ensureAgent, isolatedHome, sanitizeScreen, startPane, waitForScreen } from './harness.js';
import { selectedScenarios, SIZES } from './scenarios.js';

const profiles = agentProfiles();

describe.each(selectedScenarios())('$agent ($variant)', (sc) => {
  test.each(SIZES)('$cols x $rows', { timeout: 600_000 }, async (size) => {
    const bin = await ensureAgent(sc.agent);
    const version = await agentVersion(sc.agent);
    const profile = profiles[sc.agent];
    if (!profile) throw new Error(`no built-in profile for ${sc.agent}`);
    const compiled = CONFIG.profiles[sc.agent]!;
    const h = isolatedHome(sc.agent, sc.env);
    sc.seed?.(h);
    const pane = await startPane([bin], h, size);
    // The agent must be gone before its HOME is removed: it writes there until it exits.
    onTestFinished(async () => {
      await pane.cleanup();
      h.cleanup();
    });
    mkdirSync(SCREENS_DIR, { recursive: true });
    for (const step of sc.steps) {
      if (step.type !== undefined) await pane.type(step.type);
      if (step.keys) await pane.sendKeys(step.keys);
      const seen = await waitForScreen(pane, step.until, {
        settleMs: step.settleMs ?? 1500,
        timeoutMs: step.timeoutMs ?? 90_000,
      });
      if (step.dead) {
        await waitForScreen(pane, () => true, { settleMs: 1500 });
        expect(await pane.dead()).toBe(true);
      }
      if (!step.record) continue;
      const lines = step.dead ? await pane.capture() : seen.lines;
      const quietForMs = step.settleMs === 0 ? null : 10_000;
      const name = `${sc.agent}-${version}-${step.record}-${size.cols}x${size.rows}.txt`;
      const header = fixtureHeader({
        expect: step.expect ?? null,
        profiles: [sc.agent],
        quietForMs,
        source: `${sc.agent} ${version}, ${size.cols}x${size.rows}, ${sc.variant}, recorded by npm run test:agents`,
      });
      writeFileSync(join(SCREENS_DIR, name), `${header}\n${sanitizeScreen(lines, h)}`);
      expect(classifyScreen(lines, compiled, quietForMs), name).toBe(step.expect ?? null);
    }
  });
});
