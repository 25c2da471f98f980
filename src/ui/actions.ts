import type { Key } from 'ink';
import type { CommandDesk, Queued, Routed } from '../core/command-desk.js';
import { decodeResult, describeCommand, type Command } from '../core/commands.js';
import type { ConsoleState, GridRow } from '../core/console-model.js';
import type { Failure, Result } from '../core/result.js';
import type { PickupOutcome } from '../core/service.js';
import { sessionName } from '../core/types.js';
import type { ConsoleDeps } from './context.js';
import { loadDemoTickets } from './demo.js';
import { parseFilter } from './filter.js';
import { draftOf, editDraft } from './line-editor.js';
import { commandOf, disabledReason, resolveKeys, type CommandContext, type CommandId, type View } from './keymap.js';
import type { ScreenLayout } from './layout.js';
import { planFindings } from './plan.js';
import {
  baseOf,
  effectiveSelection,
  navigate,
  scrollView,
  type Mode,
  type NavCommand,
  type Tone,
  type UiStore,
} from './ui-store.js';

// What each command does. Every change goes through the MissionControl service (an action on a runtime goes
// through its command desk: here, or queued for the daemon of the host the runtime lives on); every outcome,
// good or bad, lands on the one status line with its cause in words, and the controller is poked to refresh.
// A queued command shows "queued on H" and is followed on the next refreshes until its result comes.
// Plain functions over the UI store: no React here, so the keys hook stays a thin adapter.

export interface CommandEnv {
  deps: ConsoleDeps;
  ui: UiStore;
  state: ConsoleState | null;
  /** The grid rows after the filter. */
  rows: readonly GridRow[];
  layout: ScreenLayout;
}

/** The view that handles input in a mode. */
export function viewOf(mode: Mode): View {
  return mode.kind;
}

/** The ticket a command acts on: the selected grid row, or the ticket a view or modal is about. */
export function currentRow(env: CommandEnv): GridRow | null {
  const s = env.ui.getState();
  const m = s.mode;
  if (m.kind === 'grid') return env.rows[effectiveSelection(env.rows, s, env.layout.gridRows).index] ?? null;
  const key = m.kind === 'details' || m.kind === 'confirm' || m.kind === 'prompt' ? m.key : null;
  return key ? (env.state?.rows.find((r) => r.key === key) ?? null) : null;
}

/** The context the keymap's disabled-reason hooks see right now. */
export function commandContext(env: CommandEnv): CommandContext {
  const s = env.ui.getState();
  return { view: viewOf(s.mode), row: currentRow(env), readonly: env.deps.readonly, filter: s.filter };
}

function failureText(verb: string, f: Failure): string {
  const msg = f.message.startsWith(`${verb}: `) ? f.message.slice(verb.length + 2) : f.message;
  if (f.code === 'conflict') return `${verb}: changed by someone else, refreshed: ${msg}`;
  return `${verb}: ${msg}`;
}

/** Run one service call with a pending note, then report its Result on the status line and refresh. */
async function perform<T>(
  env: CommandEnv,
  verb: string,
  pending: string,
  call: () => Promise<Result<T>>,
  success: (v: T) => string | { text: string; tone: Tone },
): Promise<void> {
  const { flash } = env.ui.getState();
  flash(`${verb}: ${pending}…`);
  try {
    const res = await call();
    if (res.ok) {
      const said = success(res.value);
      if (typeof said === 'string') flash(said, 'ok');
      else flash(said.text, said.tone);
    } else flash(failureText(verb, res), res.code === 'conflict' ? 'warn' : 'error');
  } catch (e) {
    flash(`${verb}: failed: ${e instanceof Error ? e.message : String(e)}`, 'error');
  } finally {
    env.deps.controller.poke();
  }
}

/** `perform` through the command desk: the local result as `success` says it, or "queued on H", then followed. */
function performRouted<T>(
  env: CommandEnv,
  verb: string,
  pending: string,
  call: (desk: CommandDesk) => Promise<Result<Routed<T>>>,
  success: (v: T) => string,
): Promise<void> {
  const desk = env.deps.service.commandDesk();
  return perform(
    env,
    verb,
    pending,
    () => call(desk),
    (r) => {
      if (r.where === 'local') return success(r.value);
      follow(env, desk, r);
      return { text: `${verb}: ${r.text}`, tone: r.warning === null ? 'info' : 'warn' };
    },
  );
}

/** What a finished command came to, for the status line; null while it waits or runs. */
function commandOutcome(c: Command): { text: string; tone: Tone } | null {
  const what = describeCommand(c);
  if (c.status === 'queued' || c.status === 'running') return null;
  const r = decodeResult(c.result);
  if (c.status === 'done' && r?.ok) return { text: `${what} done: ${r.summary}`, tone: 'ok' };
  if (r !== null && !r.ok) return { text: `${what} ${c.status} (${r.code}): ${r.message}`, tone: 'error' };
  return { text: `${what} expired: no daemon of ${c.targetHost} took it in time`, tone: 'error' };
}

/**
 * Follow a queued command on the controller's refreshes (one read at a time) until it is done, failed or
 * expired, then put its result on the status line. Stops by itself once the command is past its expiry.
 */
function follow(env: CommandEnv, desk: CommandDesk, q: Queued): void {
  let reading = false;
  let stopped = false;
  const unsubscribe = env.deps.controller.subscribe((state) => {
    if (reading || stopped) return;
    reading = true;
    void desk
      .get(q.command.id)
      .then((res) => {
        if (stopped) return;
        const outcome = res.ok ? commandOutcome(res.value) : { text: res.message, tone: 'error' as const };
        const overdue = res.ok && outcome === null && state.at > res.value.expiresAt + 60_000;
        if (outcome === null && !overdue) return;
        stopped = true;
        unsubscribe();
        env.ui
          .getState()
          .flash(
            outcome?.text ?? `${describeCommand(q.command)}: still queued past its expiry; see mcc commands`,
            outcome?.tone ?? 'warn',
          );
      })
      .catch(() => undefined)
      .finally(() => {
        reading = false;
      });
  });
}

function pickedUp(v: PickupOutcome): string {
  if (v.how === 'adopted')
    return `pickup: ${v.ticket.key} already had a live runtime; adopted ${v.runtime.tmuxSession}`;
  const pid = v.runtime.pid ? `, agent pid ${v.runtime.pid}` : '';
  const prompt = v.prompt === 'sent' ? 'prompt sent' : 'prompt queued until the agent is ready';
  return `pickup: ${v.ticket.key} started in ${v.runtime.tmuxSession}${pid}; ${prompt}`;
}

/** Do what a command means in the current mode, or say on the status line why it cannot apply. */
export function runCommand(id: CommandId, env: CommandEnv): void {
  const s = env.ui.getState();
  const ctx = commandContext(env);
  const why = disabledReason(id, ctx);
  if (why) {
    s.flash(why, 'warn');
    return;
  }
  const row = ctx.row;
  const { service } = env.deps;
  // The row a command acts on stays selected when a refresh re-sorts the grid under it.
  if (row && s.mode.kind === 'grid' && s.selectedKey !== row.key) {
    const sel = effectiveSelection(env.rows, s, env.layout.gridRows);
    s.setSelection({ key: row.key, index: sel.index, top: sel.top });
  }
  switch (id) {
    case 'nav.down':
    case 'nav.up':
    case 'nav.top':
    case 'nav.bottom':
    case 'nav.pageDown':
    case 'nav.pageUp':
      return navigateBy(id, env);
    case 'view.details':
      if (row) s.setMode({ kind: 'details', key: row.key });
      return;
    case 'view.back':
      if (s.mode.kind === 'grid') {
        s.setFilter('');
        s.flash('filter cleared');
      } else {
        s.setMode(s.mode.kind === 'details' ? { kind: 'grid' } : baseOf(s.mode));
      }
      return;
    case 'view.filter':
      s.setMode({ kind: 'filter', before: s.filter }, draftOf(s.filter));
      return;
    case 'view.help':
      s.setMode({ kind: 'help', back: baseOf(s.mode) });
      return;
    case 'ticket.pickup':
      if (row) void performRouted(env, 'pickup', `starting ${row.key}`, (desk) => desk.pickup(row.key), pickedUp);
      return;
    case 'runtime.adopt':
      if (row)
        void performRouted(
          env,
          'adopt',
          `adopting the runtime of ${row.key}`,
          (desk) => desk.adopt(row.key),
          (v) => `adopt: ${v}`,
        );
      return;
    case 'runtime.interrupt':
      if (row)
        void performRouted(
          env,
          'interrupt',
          `interrupting ${row.key}`,
          (desk) => desk.interrupt(row.key, row.runtimeId != null ? { runtimeId: row.runtimeId } : {}),
          (v) => `interrupt: ${v}`,
        );
      return;
    case 'runtime.retire':
      if (row) {
        const pid = row.pid ? ` (agent pid ${row.pid})` : '';
        const question = `Retire ${row.key}? This kills tmux session ${sessionName(row.key)}${pid} and closes its runtime; an in_progress ticket goes back to todo.`;
        s.setMode({
          kind: 'confirm',
          action: 'retire',
          key: row.key,
          question,
          back: baseOf(s.mode),
          ...(row.runtimeId != null ? { runtimeId: row.runtimeId } : {}),
        });
      }
      return;
    case 'message.send':
      if (row) s.setMode({ kind: 'prompt', purpose: 'send', key: row.key, back: baseOf(s.mode) });
      return;
    case 'ticket.new':
      s.setMode({ kind: 'prompt', purpose: 'new', key: null, back: baseOf(s.mode) });
      return;
    case 'review.approve':
      if (row) {
        if (row.checks === 'ok' || row.checks === null) return approve(env, row.key, false);
        const why = row.checks === 'failed' ? 'its review checks FAILED' : 'its review checks have not finished';
        const question = `Approve ${row.key} although ${why}? The override is recorded.`;
        s.setMode({ kind: 'confirm', action: 'approve', key: row.key, question, back: baseOf(s.mode) });
      }
      return;
    case 'review.changes':
      if (row) s.setMode({ kind: 'prompt', purpose: 'changes', key: row.key, back: baseOf(s.mode) });
      return;
    case 'review.block':
      if (row) s.setMode({ kind: 'prompt', purpose: 'block', key: row.key, back: baseOf(s.mode) });
      return;
    case 'runtime.attach':
      if (row) {
        s.flash(`attach: ${sessionName(row.key)} (detach with C-b d to come back)`);
        env.deps.onAttach(sessionName(row.key));
      }
      return;
    case 'reconcile.now':
      void planReconcile(env);
      return;
    case 'demo.load':
      void perform(
        env,
        'demo',
        'creating demo tickets',
        () => loadDemoTickets(service),
        (keys) =>
          `demo: created ${keys.join(', ')} (profile demo); select one and press ${commandOf('ticket.pickup').keys[0]} to start its agent`,
      );
      return;
    case 'app.quit':
      env.deps.onQuit();
      return;
    case 'confirm.yes':
      return confirmYes(env);
    case 'confirm.no':
      s.setMode(baseOf(s.mode));
      s.flash('cancelled; nothing changed');
      return;
    case 'prompt.submit':
    case 'prompt.cancel':
      // Text views handle these through submitText/cancelText, with the text they hold.
      return;
    default: {
      const never: never = id;
      throw new Error(`unhandled command ${String(never)}`);
    }
  }
}

function navigateBy(cmd: NavCommand, env: CommandEnv): void {
  const s = env.ui.getState();
  if (s.mode.kind === 'grid') {
    s.setSelection(navigate(env.rows, effectiveSelection(env.rows, s, env.layout.gridRows), cmd, env.layout.gridRows));
  } else {
    s.setScroll(scrollView(s.scroll, cmd, s.viewLength, env.layout.body));
  }
}

function approve(env: CommandEnv, key: string, override: boolean): void {
  void perform(
    env,
    'approve',
    `approving ${key}`,
    () => env.deps.service.approve(key, { override }),
    () => `approve: ${key} done${override ? ' (checks overridden, recorded)' : ''}`,
  );
}

function confirmYes(env: CommandEnv): void {
  const s = env.ui.getState();
  const m = s.mode;
  if (m.kind === 'confirm' && m.action === 'approve') {
    s.setMode(m.back);
    approve(env, m.key, true);
  } else if (m.kind === 'confirm') {
    s.setMode(m.back);
    void performRouted(
      env,
      'retire',
      `retiring ${m.key}`,
      (desk) => desk.retire(m.key, m.runtimeId !== undefined ? { runtimeId: m.runtimeId } : {}),
      (v) => `retire: ${v}`,
    );
  } else if (m.kind === 'plan') {
    s.setMode(m.back);
    void applyReconcile(env);
  }
}

async function planReconcile(env: CommandEnv): Promise<void> {
  const { flash } = env.ui.getState();
  const before = env.ui.getState().mode;
  flash('reconcile: planning (dry run)…');
  try {
    const report = await env.deps.service.reconcile('dry-run');
    const shown = planFindings(report.findings);
    if (shown.length === 0) {
      flash('reconcile: nothing to do; the store and tmux agree', 'ok');
      return;
    }
    // Keys pressed while the plan was computed win over showing it.
    if (env.ui.getState().mode !== before) return;
    env.ui.getState().setMode({ kind: 'plan', findings: report.findings, back: baseOf(before) });
    flash(`reconcile: ${shown.length} finding(s); y applies the plan, n cancels`, 'warn');
  } catch (e) {
    flash(`reconcile: could not plan: ${e instanceof Error ? e.message : String(e)}`, 'error');
  }
}

async function applyReconcile(env: CommandEnv): Promise<void> {
  const { flash } = env.ui.getState();
  flash('reconcile: applying…');
  try {
    const report = await env.deps.service.reconcile('auto');
    const acted = report.applied.filter(
      (a) => a.outcome !== 'skipped' && (a.finding.drift !== null || a.finding.action.type !== 'observe'),
    );
    const n = (o: string) => acted.filter((a) => a.outcome === o).length;
    const failed = acted.filter((a) => a.outcome === 'failed');
    const text = `reconcile: ${n('applied')} applied, ${n('declined')} declined (changed by someone else), ${failed.length} failed`;
    flash(
      failed.length > 0 ? `${text}: ${failed[0]?.detail ?? ''}` : text,
      failed.length > 0 ? 'error' : n('declined') > 0 ? 'warn' : 'ok',
    );
  } catch (e) {
    flash(`reconcile: failed: ${e instanceof Error ? e.message : String(e)}`, 'error');
  } finally {
    env.deps.controller.poke();
  }
}

/** Finish a text view: send the message, create the ticket, or keep the filter. */
export function submitText(env: CommandEnv, text: string): void {
  const s = env.ui.getState();
  const m = s.mode;
  if (m.kind === 'filter') {
    s.setFilter(text.trim());
    s.setMode({ kind: 'grid' });
    const problems = parseFilter(text).problems;
    if (problems.length > 0) s.flash(`filter: ${problems.join('; ')}`, 'warn');
    else if (text.trim() !== '') s.flash(`filter: ${text.trim()} (Esc clears it)`);
    return;
  }
  if (m.kind !== 'prompt') return;
  s.setMode(m.back);
  const { service } = env.deps;
  if (m.purpose === 'send' && m.key) {
    const key = m.key;
    void performRouted(
      env,
      'send',
      `sending to ${key}`,
      (desk) => desk.send(key, text),
      (v) =>
        v === 'sent' ? `send: delivered to ${key}` : `send: queued for ${key}; delivered when the agent is ready`,
    );
    return;
  }
  if (m.purpose === 'changes' && m.key) {
    const key = m.key;
    void perform(
      env,
      'changes',
      `requesting changes of ${key}`,
      () => service.requestChanges(key, text),
      (v) =>
        v.runtime === 'live'
          ? `changes: ${v.delivery === 'sent' ? 'sent to' : 'queued for'} ${key}'s agent; ${key} in_progress`
          : `changes: ${key}'s runtime was gone; a fresh one started, the changes follow its prompt`,
    );
    return;
  }
  if (m.purpose === 'block' && m.key) {
    const key = m.key;
    void perform(
      env,
      'block',
      `blocking ${key}`,
      () => service.block(key, text),
      () => `block: ${key} blocked`,
    );
    return;
  }
  if (m.purpose === 'new') void createTicket(env, text);
}

/** Leave a text view without doing anything (the filter goes back to what it was). */
export function cancelText(env: CommandEnv): void {
  const s = env.ui.getState();
  const m = s.mode;
  if (m.kind === 'filter') {
    s.setFilter(m.before);
    s.setMode({ kind: 'grid' });
    return;
  }
  if (m.kind === 'prompt') {
    s.setMode(m.back);
    const nothing = m.purpose === 'new' ? 'nothing created' : m.purpose === 'send' ? 'nothing sent' : 'nothing changed';
    s.flash(`${m.purpose}: cancelled; ${nothing}`);
  }
}

async function createTicket(env: CommandEnv, title: string): Promise<void> {
  const { flash } = env.ui.getState();
  try {
    const res = await env.deps.service.createTicket({ title });
    if (!res.ok) {
      flash(`new: ${res.message}; nothing created`, 'warn');
      return;
    }
    const t = res.value;
    const s = env.ui.getState();
    s.setSelection({ key: t.key, index: s.selectedIndex, top: s.top });
    flash(`new: created ${t.key} (profile ${t.profile}); ${commandOf('ticket.pickup').keys[0]} starts it`, 'ok');
  } catch (e) {
    flash(`new: could not create the ticket: ${e instanceof Error ? e.message : String(e)}`, 'error');
  } finally {
    env.deps.controller.poke();
  }
}

/** Feed one key to the open line editor: Enter submits, Esc cancels, the rest edits; the filter applies live. */
export function editText(env: CommandEnv, input: string, key: Key, view: 'prompt' | 'filter'): void {
  const s = env.ui.getState();
  for (const r of resolveKeys(input, key, () => view)) {
    if (!('id' in r)) continue;
    if (r.id === 'prompt.submit') return submitText(env, s.draft.text);
    if (r.id === 'prompt.cancel') return cancelText(env);
  }
  const next = editDraft(s.draft, input, key);
  if (next === s.draft) return;
  s.setDraft(next);
  if (s.mode.kind === 'filter') s.setFilter(next.text);
}
