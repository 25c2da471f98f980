import { describe, expect, it } from 'vitest';
import { diagnose } from '../../src/core/diagnose.js';
import type { Finding } from '../../src/core/findings.js';
import { bufferName } from '../../src/core/delivery.js';
import { findMarker } from '../../src/core/screen.js';
import type { Message, RuntimeSession, Ticket } from '../../src/core/types.js';
import { NOW, SCREEN, TTL, actionTypes, drifts, message, obs, pane, runtime, snapshot, ticket } from './builders.js';

// Routine work on a healthy runtime (ticket in_progress, agent live and verified): delivery only when the
// agent is ready, crash-interrupted deliveries resumed from the buffer's presence, and markers that act once.

interface Healthy {
  screen?: readonly string[] | null;
  messages?: Message[];
  buffers?: string[] | null;
  t?: Partial<Ticket>;
  r?: Partial<RuntimeSession>;
}

function healthy(h: Healthy = {}): Finding[] {
  return diagnose(
    snapshot({
      tickets: [ticket(h.t)],
      runtimes: [runtime(h.r)],
      messages: h.messages ?? [],
      panes: [pane()],
      processes: [[100, obs.alive()]],
      captures: h.screen === null || h.screen === undefined ? [] : [['%1', h.screen]],
      ...(h.buffers === undefined ? {} : { buffers: h.buffers }),
    }),
  );
}

const prompt = message();
const fp = (lines: readonly string[]) => findMarker(lines, [], null)!.fingerprint;

describe('delivery: only when the agent is ready, never while it is busy', () => {
  it('a pending prompt is delivered to an idle agent, to the live pane', () => {
    const fs = healthy({ screen: SCREEN.idle, messages: [prompt] });
    expect(drifts(fs)).toEqual([]);
    expect(fs.map((f) => f.action)).toEqual([
      { type: 'deliver', messageId: 21, runtimeId: 11, paneId: '%1', key: 'MC-1', profile: 'demo' },
    ]);
  });

  it.each([
    ['booting', SCREEN.booting],
    ['working', SCREEN.working],
  ])('nothing is delivered while the agent is %s: its status is recorded and the message waits', (_name, screen) => {
    const fs = healthy({ screen, messages: [prompt] });
    expect(actionTypes(fs)).toEqual(['observe', 'wait']);
    const a = fs[0]!.action;
    if (a.type === 'observe') expect(a.status).toBe('running');
    expect(drifts(fs)).toEqual([]);
  });

  it('without a capture this pass nothing is delivered (the screen is not guessed): the message waits', () => {
    const fs = healthy({ screen: null, messages: [prompt] });
    expect(fs.map((f) => [f.drift, f.action.type])).toEqual([[null, 'wait']]);
  });

  it('a typed but unsubmitted draft is neither busy nor ready: nothing is delivered over it', () => {
    const fs = healthy({ screen: ['demo-agent pid 100', 'demo> half a sentence'], messages: [prompt] });
    expect(actionTypes(fs)).not.toContain('deliver');
  });

  it('the prompt goes before operator messages, whatever their ids', () => {
    const op = message({ id: 5, kind: 'operator', body: 'also update the docs', runtimeId: null });
    const fs = healthy({ screen: SCREEN.idle, messages: [op, prompt] });
    expect(fs.map((f) => f.action.type === 'deliver' && f.action.messageId)).toEqual([21]);
  });

  it('one delivery per pass: the second message waits for the agent to be ready again', () => {
    const ops = [message({ id: 30, kind: 'operator', body: 'a' }), message({ id: 31, kind: 'operator', body: 'b' })];
    expect(actionTypes(healthy({ screen: SCREEN.idle, messages: ops }))).toEqual(['deliver']);
  });

  it('an agent waiting on its QUESTION takes the operator’s answer', () => {
    const answer = message({ id: 40, kind: 'operator', body: 'use the second option', runtimeId: null });
    const fs = healthy({
      screen: SCREEN.question,
      messages: [answer],
      r: { status: 'waiting', lastMarker: fp(SCREEN.question) },
      t: { humanInputRequired: false },
    });
    expect(fs.map((f) => f.action.type === 'deliver' && f.action.messageId)).toEqual([40]);
  });
});

describe('resume_delivery: a delivery a crash interrupted is finished, never typed twice', () => {
  const inFlight = message({ status: 'delivering', deliveryToken: 'tok1', attempts: 1 });
  const buf = bufferName(21, 'tok1');

  it('buffer still loaded and agent idle: paste it now', () => {
    const fs = healthy({ screen: SCREEN.idle, messages: [inFlight], buffers: [buf] });
    expect(fs.map((f) => f.action)).toEqual([
      {
        type: 'resume_delivery',
        messageId: 21,
        runtimeId: 11,
        paneId: '%1',
        key: 'MC-1',
        profile: 'demo',
        step: 'paste',
      },
    ]);
  });

  it('buffer still loaded but agent busy: wait (pasting into a busy agent loses the text)', () => {
    const fs = healthy({ screen: SCREEN.working, messages: [inFlight], buffers: [buf] });
    expect(actionTypes(fs)).not.toContain('resume_delivery');
    expect(actionTypes(fs)).not.toContain('deliver');
  });

  it('buffer consumed and the agent works on it: the submit went through before the crash; nothing typed', () => {
    const fs = healthy({ screen: SCREEN.working, messages: [inFlight], buffers: [] });
    const resume = fs.find((f) => f.action.type === 'resume_delivery');
    expect(resume?.action).toMatchObject({ step: 'mark_sent', messageId: 21 });
  });

  it('buffer consumed and the pasted draft shows on the input line: only then are the submit keys sent', () => {
    const draft = ['demo-agent pid 100', `demo> ${inFlight.body.split('\n')[0]}`];
    const fs = healthy({ screen: draft, messages: [inFlight], buffers: [] });
    expect(fs.find((f) => f.action.type === 'resume_delivery')?.action).toMatchObject({ step: 'submit' });
    const pasted = ['╭────╮', '│ > [Pasted text #1 +12 lines] │', '╰────╯'];
    expect(actionTypes(healthy({ screen: pasted, messages: [inFlight], buffers: [] }))).toContain('resume_delivery');
  });

  it('buffer consumed, but an empty prompt (or no screen): no submit into what nobody can see; one warning', () => {
    const fs = healthy({ screen: SCREEN.idle, messages: [inFlight], buffers: [] });
    expect(actionTypes(fs)).not.toContain('resume_delivery');
    const warn = fs.find((f) => f.action.type === 'warn');
    expect(warn?.drift).toBe('NEEDS-OPERATOR');
    expect(warn?.action).toMatchObject({ kind: 'message.delivery_unconfirmed', once: 'unconfirmed:message:21' });
    expect(actionTypes(healthy({ screen: null, messages: [inFlight], buffers: [] }))).toEqual([]);
  });

  it('buffers not listed this pass: no judgement on the delivery, and no other message overtakes it', () => {
    const other = message({ id: 22, kind: 'operator', body: 'x' });
    const fs = healthy({ screen: SCREEN.idle, messages: [inFlight, other], buffers: null });
    expect(actionTypes(fs)).toEqual([]);
  });

  it('a delivery bound to another runtime is not resumed here, and nothing else is delivered meanwhile', () => {
    const foreign = message({ status: 'delivering', deliveryToken: 'tok9', runtimeId: 99 });
    const fs = healthy({
      screen: SCREEN.idle,
      messages: [foreign, message({ id: 22, kind: 'operator' })],
      buffers: [],
    });
    expect(actionTypes(fs)).toEqual([]);
  });
});

describe('markers: REVIEW, DONE and QUESTION act once, after the prompt, never from an echo', () => {
  it.each([
    ['REVIEW', SCREEN.review],
    ['DONE', SCREEN.done],
    ['QUESTION', SCREEN.question],
  ] as const)('%s on screen -> one marker action carrying both versions', (kind, screen) => {
    const fs = healthy({ screen });
    expect(fs).toHaveLength(1);
    expect(fs[0]!.drift).toBeNull();
    expect(fs[0]!.action).toMatchObject({
      type: 'marker',
      key: 'MC-1',
      ticketVersion: 7,
      runtimeId: 11,
      runtimeVersion: 3,
      marker: { kind },
    });
  });

  it('a marker acts once: the fingerprint stored on the runtime silences it', () => {
    expect(actionTypes(healthy({ screen: SCREEN.review, r: { lastMarker: fp(SCREEN.review) } }))).not.toContain(
      'marker',
    );
  });

  it('a newer marker below the one already acted on acts', () => {
    const screen = [...SCREEN.review.slice(0, -1), '│ follow-up', 'QUESTION: which database?', 'demo> '];
    const fs = healthy({ screen, r: { lastMarker: fp(SCREEN.review), status: 'idle' } });
    expect(fs.map((f) => f.action.type === 'marker' && f.action.marker.kind)).toEqual(['QUESTION']);
  });

  it('an echo of the ticket’s own text never counts (its body names DONE:)', () => {
    const body = 'Steps:\nDONE: only when the tests pass';
    const screen = [
      'demo-agent pid 100',
      'MC-1: fix the thing',
      'Steps:',
      'DONE: only when the tests pass',
      '⠋ working on prompt 1… (esc to interrupt)',
    ];
    const fs = healthy({ screen, t: { body } });
    expect(actionTypes(fs)).not.toContain('marker');
  });

  it('an echo of the title never counts', () => {
    const fs = healthy({ screen: ['REVIEW: the parser', 'demo> '], t: { title: 'REVIEW: the parser' } });
    expect(actionTypes(fs)).not.toContain('marker');
  });

  it('no marker while the prompt is still pending or being delivered', () => {
    for (const m of [prompt, message({ status: 'delivering', deliveryToken: 't' })]) {
      expect(actionTypes(healthy({ screen: SCREEN.review, messages: [m], buffers: [] }))).not.toContain('marker');
    }
  });

  it.each(['  REVIEW: indented', 'say REVIEW: inline', '│ DONE: quoted echo', 'review: lower case'])(
    '%j is not a marker',
    (line) => {
      expect(actionTypes(healthy({ screen: ['demo-agent pid 100', line, 'demo> '] }))).not.toContain('marker');
    },
  );
});

describe('status bookkeeping', () => {
  it('a changed screen status is recorded; an unchanged fresh one writes nothing', () => {
    expect(healthy({ screen: SCREEN.working }).map((f) => f.action)).toEqual([
      { type: 'observe', runtimeId: 11, runtimeVersion: 3, status: 'running', lastSeenAt: NOW, clearHumanInput: null },
    ]);
    expect(healthy({ screen: SCREEN.idle })).toEqual([]);
  });

  it('last-seen is rewritten rarely (about every 5 minutes, spread per row), even without a capture', () => {
    // Not a liveness input: a fresh-enough row costs no write; a stale one is refreshed.
    expect(healthy({ screen: null, r: { lastSeenAt: NOW - TTL } })).toEqual([]);
    expect(healthy({ screen: null, r: { lastSeenAt: NOW - 5 * 60_000 } })).toEqual([]);
    const fs = healthy({ screen: null, r: { lastSeenAt: NOW - 6 * 60_000 - 1 } });
    expect(fs.map((f) => f.action)).toEqual([
      { type: 'observe', runtimeId: 11, runtimeVersion: 3, status: null, lastSeenAt: NOW, clearHumanInput: null },
    ]);
    expect(healthy({ screen: null, r: { lastSeenAt: null } }).map((f) => f.action.type)).toEqual(['observe']);
  });
});
