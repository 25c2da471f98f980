import { describe, expect, it } from 'vitest';
import { resolveDbPath } from '../../src/store/paths.js';

describe('resolveDbPath', () => {
  const env = { HOME: '/home/op', XDG_STATE_HOME: '/xdg/state', MCC_DB: '/env/mcc.db' };

  it('prefers --db, then MCC_DB, then XDG_STATE_HOME, then ~/.local/state', () => {
    expect(resolveDbPath({ flag: '/flag.db', env })).toBe('/flag.db');
    expect(resolveDbPath({ env })).toBe('/env/mcc.db');
    expect(resolveDbPath({ env: { ...env, MCC_DB: '' } })).toBe('/xdg/state/mcc/mcc.db');
    expect(resolveDbPath({ env: { HOME: '/home/op' } })).toBe('/home/op/.local/state/mcc/mcc.db');
  });

  it('ignores a relative XDG_STATE_HOME, as the XDG spec requires', () => {
    expect(resolveDbPath({ env: { HOME: '/home/op', XDG_STATE_HOME: 'rel' } })).toBe(
      '/home/op/.local/state/mcc/mcc.db',
    );
  });
});
