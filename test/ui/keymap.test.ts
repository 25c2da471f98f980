import type { Key } from 'ink';
import { describe, expect, it } from 'vitest';
import { helpLines } from '../../src/ui/help-view.js';
import {
  COMMANDS,
  NAMED_KEYS,
  commandOf,
  commandsFor,
  disabledReason,
  keyLabel,
  keysLabel,
  keySequence,
  resolveKeys,
  type CommandContext,
  type View,
} from '../../src/ui/keymap.js';
import { driftFinding, gridRow } from './rows.js';

const VIEWS: View[] = ['grid', 'details', 'help', 'confirm', 'plan', 'prompt', 'filter'];

function inkKey(p: Partial<Key> = {}): Key {
  return {
    upArrow: false,
    downArrow: false,
    leftArrow: false,
    rightArrow: false,
    pageDown: false,
    pageUp: false,
    home: false,
    end: false,
    return: false,
    escape: false,
    ctrl: false,
    shift: false,
    tab: false,
    backspace: false,
    delete: false,
    meta: false,
    super: false,
    hyper: false,
    capsLock: false,
    numLock: false,
    ...p,
  };
}

const ctx = (p: Partial<CommandContext> = {}): CommandContext => ({
  view: 'grid',
  row: null,
  readonly: false,
  filter: '',
  ...p,
});

describe('keymap conformance', () => {
  it('every command has a key, a hint, a description and at least one view', () => {
    for (const c of COMMANDS) {
      expect(c.keys.length, c.id).toBeGreaterThan(0);
      expect(c.hint.trim(), c.id).not.toBe('');
      expect(c.description.trim(), c.id).not.toBe('');
      expect(c.views.length, c.id).toBeGreaterThan(0);
      for (const k of c.keys)
        expect(k.startsWith('<') ? k in NAMED_KEYS : [...k].length === 1, `${c.id} key ${k}`).toBe(true);
    }
  });

  it('ids are unique and no two commands share a key within a view', () => {
    expect(new Set(COMMANDS.map((c) => c.id)).size).toBe(COMMANDS.length);
    for (const v of VIEWS) {
      const seen = new Map<string, string>();
      for (const c of commandsFor(v)) {
        for (const k of c.keys) {
          expect(seen.get(k), `${v}: ${k} bound to ${seen.get(k)} and ${c.id}`).toBeUndefined();
          seen.set(k, c.id);
        }
      }
    }
  });

  it('every command appears in the generated help with its keys', () => {
    const help = helpLines(false, 200)
      .map((l) => l.text)
      .join('\n');
    for (const c of COMMANDS) {
      expect(help).toContain(c.id);
      expect(help).toContain(keysLabel(c));
    }
  });

  it('the commands the issue names have their default keys', () => {
    const expected: Record<string, string> = {
      'ticket.pickup': 'p',
      'runtime.adopt': 'a',
      'runtime.interrupt': 'i',
      'runtime.retire': 'r',
      'message.send': 's',
      'ticket.new': 'n',
      'runtime.attach': 't',
      'reconcile.now': 'R',
      'app.quit': 'q',
      'view.help': '?',
      'view.filter': '/',
      'nav.down': 'j',
      'nav.up': 'k',
      'nav.top': 'g',
      'nav.bottom': 'G',
      'view.details': '<enter>',
      'view.back': '<esc>',
      'nav.pageDown': '<pgdn>',
      'nav.pageUp': '<pgup>',
    };
    for (const [id, key] of Object.entries(expected)) expect(commandOf(id as never).keys).toContain(key);
  });
});

describe('resolveKeys', () => {
  const grid = () => 'grid' as const;

  it('resolves each character of a multi-key chunk', () => {
    expect([...resolveKeys('jjk', inkKey(), grid)]).toEqual([{ id: 'nav.down' }, { id: 'nav.down' }, { id: 'nav.up' }]);
  });

  it('resolves named keys from Ink flags, and says which key is unbound', () => {
    expect([...resolveKeys('', inkKey({ downArrow: true }), grid)]).toEqual([{ id: 'nav.down' }]);
    expect([...resolveKeys('', inkKey({ return: true }), grid)]).toEqual([{ id: 'view.details' }]);
    expect([...resolveKeys('c', inkKey({ ctrl: true }), grid)]).toEqual([{ id: 'app.quit' }]);
    expect([...resolveKeys('x', inkKey(), grid)]).toEqual([{ unbound: 'x' }]);
  });

  it('resolves against the view at each character', () => {
    let view: View = 'grid';
    const out = [];
    for (const r of resolveKeys('rn', inkKey(), () => view)) {
      out.push(r);
      view = 'confirm';
    }
    expect(out).toEqual([{ id: 'runtime.retire' }, { id: 'confirm.no' }]);
  });

  it('gives every key a label and a byte sequence', () => {
    for (const c of COMMANDS)
      for (const k of c.keys) {
        expect(keyLabel(k)).not.toBe('');
        expect(keySequence(k)).not.toBe('');
      }
  });
});

describe('disabledReason', () => {
  it('read-only disables every mutating command, with a reason', () => {
    const row = gridRow({ key: 'MC-1', live: true, runtime: 'running', state: 'in_progress' });
    for (const c of COMMANDS.filter((x) => x.mutates)) {
      expect(disabledReason(c.id, ctx({ readonly: true, row })), c.id).toMatch(/read-only/);
    }
    expect(disabledReason('nav.down', ctx({ readonly: true }))).toBeNull();
    expect(disabledReason('app.quit', ctx({ readonly: true }))).toBeNull();
  });

  it('names the ticket and the cause', () => {
    expect(disabledReason('runtime.adopt', ctx({ row: gridRow({ key: 'MC-7' }) }))).toBe(
      'adopt: no live runtime for MC-7',
    );
    expect(disabledReason('ticket.pickup', ctx({ row: gridRow({ key: 'MC-3', state: 'in_review' }) }))).toBe(
      'pickup: MC-3 is in_review, not todo',
    );
    expect(disabledReason('runtime.retire', ctx({ row: gridRow({ key: 'MC-2' }) }))).toBe(
      'retire: MC-2 has no open runtime',
    );
    expect(disabledReason('runtime.interrupt', ctx({ row: gridRow({ key: 'MC-2', runtime: '?' }) }))).toMatch(
      /observation unknown/,
    );
    expect(disabledReason('ticket.pickup', ctx())).toBe('pickup: no ticket selected');
  });

  it('allows adopt on a row whose findings propose adoption (HIDDEN-LIVE, ORPHAN)', () => {
    const row = gridRow({ key: 'MC-4', badge: 'ORPHAN', findings: [driftFinding('MC-4', 'ORPHAN', true)] });
    expect(disabledReason('runtime.adopt', ctx({ row }))).toBeNull();
    expect(disabledReason('runtime.attach', ctx({ row }))).toBeNull();
  });
});
