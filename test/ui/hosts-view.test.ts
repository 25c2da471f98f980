// Several hosts in the console: the HOST column only when the store has more than one host, still exactly the
// terminal's width at 80 columns; a header line per host, and a banner for an UNREACHABLE one.
import { describe, expect, it } from 'vitest';
import type { ConsoleState } from '../../src/core/console-model.js';
import { hostReachability, type Host, type HostView } from '../../src/core/hosts.js';
import { hostLines, severalHosts } from '../../src/ui/header.js';
import { cellText, gridColumns, MARKER_WIDTH, screenLayout, withHeaderLines } from '../../src/ui/layout.js';
import { cellWidth } from '../../src/ui/text.js';
import { gridRow } from './rows.js';

const NOW = Date.parse('2026-12-01T10:00:00.000Z');

function view(id: string, heartbeatAt: number, openRuntimes = 1, forgottenAt: number | null = null): HostView {
  const host: Host = {
    id,
    bootId: null,
    version: '0.1.0',
    tmuxSocket: 'mcc',
    heartbeatAt,
    labels: [],
    sshTarget: null,
    epoch: 1,
    forgottenAt,
    createdAt: NOW,
    updatedAt: NOW,
  };
  return { host, reach: hostReachability(host, NOW, 30), openRuntimes };
}

function state(hosts: HostView[], at = NOW): ConsoleState {
  return {
    at,
    rows: [],
    counts: { todo: 0, in_progress: 0, in_review: 0, done: 0, blocked: 0 },
    driftCount: 0,
    liveRuntimes: 0,
    openRuntimes: 0,
    observation: { state: 'ok', reason: null, lastOkAt: NOW },
    lease: null,
    hosts,
    hostsAt: NOW,
  };
}

const rows = [
  gridRow({
    key: 'MC-1',
    state: 'in_progress',
    runtime: 'running',
    pid: 4242,
    host: 'devbox-3f2a9c1b',
    runtimeCreatedAt: 0,
  }),
  gridRow({ key: 'MC-2', state: 'in_progress', runtime: '?', host: 'gpu-box-2', badge: 'UNREACHABLE 45s' }),
];

describe('HOST column', () => {
  it('absent for one host (today’s columns), present and narrow for several', () => {
    expect(gridColumns(80, rows).map((c) => c.id)).not.toContain('host');
    const cols = gridColumns(120, rows, { hosts: true });
    expect(cols.find((c) => c.id === 'host')).toMatchObject({ label: 'HOST', width: 10 });
  });

  it('every line is exactly the terminal width, at 80 columns and narrower', () => {
    for (const width of [80, 60, 40]) {
      const cols = gridColumns(width, rows, { hosts: true });
      for (const r of rows) {
        const line = cols.map((c) => cellText(r, c, NOW)).join(' ');
        expect(cellWidth(line) + MARKER_WIDTH, `${width} columns`).toBe(width);
      }
    }
    // At 80 columns the host is still shown, cut to the column.
    const at80 = gridColumns(80, rows, { hosts: true });
    expect(at80.map((c) => c.id)).toContain('host');
    expect(
      cellText(
        rows[0]!,
        at80.find((c) => c.id === 'host')!,
        NOW,
      ),
    ).toBe('devbox-3f…');
  });
});

describe('host lines', () => {
  it('none for one reachable host, so a one-host operator sees today’s header', () => {
    const s = state([view('devbox', NOW - 1000)]);
    expect(hostLines(s)).toEqual([]);
    expect(severalHosts(s)).toBe(false);
  });

  it('a line per host when there are several, with heartbeat age and runtimes; the clock moves the ages', () => {
    const s = state([view('a', NOW - 2000, 3), view('b', NOW - 1000, 0)], NOW + 5000);
    expect(severalHosts(s)).toBe(true);
    expect(hostLines(s).map((l) => l.text)).toEqual([
      'host a  heartbeat 7s ago  runtimes 3',
      'host b  heartbeat 6s ago  runtimes 0',
    ]);
  });

  it('a banner for an UNREACHABLE host, even when it is the only one; forgotten hosts are not shown', () => {
    const s = state([view('gpu', NOW - 45_000, 2), view('old', NOW - 999_000, 0, NOW - 10)]);
    expect(severalHosts(s)).toBe(false);
    const [banner] = hostLines(s);
    expect(hostLines(s)).toHaveLength(1);
    expect(banner).toMatchObject({ tone: 'error' });
    expect(banner!.text).toContain('HOST gpu UNREACHABLE: last heartbeat 45s ago; its 2 runtime(s) show ?');
    expect(banner!.text).toContain('mcc host forget gpu');
  });

  it('many hosts: at most 4 lines, banners kept, the rest counted', () => {
    const hosts = [1, 2, 3, 4, 5, 6].map((i) => view(`h${i}`, NOW - 1000));
    hosts.push(view('down', NOW - 60_000));
    const lines = hostLines(state(hosts));
    expect(lines).toHaveLength(4);
    expect(lines[0]!.text).toContain('HOST down UNREACHABLE');
    expect(lines[3]!.text).toBe('... and 4 more host line(s): mcc hosts');
  });

  it('the extra header lines come out of the grid, never past the screen', () => {
    const base = screenLayout(80, 24);
    const more = withHeaderLines(base, 3);
    expect(more.body).toBe(base.body - 3);
    expect(more.gridRows).toBe(base.gridRows - 3);
    expect(withHeaderLines(base, 0)).toBe(base);
    expect(withHeaderLines(screenLayout(80, 10), 4).gridRows).toBeGreaterThanOrEqual(1);
  });
});
