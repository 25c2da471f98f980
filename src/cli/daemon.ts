import { pollingWake, type CommandWake } from '../core/command-wake.port.js';
import type { DrainReport } from '../core/command-worker.js';
import { describeCommand } from '../core/commands.js';
import { DAEMON_LEASE, daemonLeaseName } from '../core/console-controller.js';
import { ChecksRunner } from '../core/checks-runner.js';
import { isHostOf } from '../core/hosts.js';
import { holderLabel } from '../core/lease-holder.js';
import { Poller } from '../core/poller.js';
import { runtimesHoldingSlots } from '../core/review.js';
import type { MissionControl, PassReport } from '../core/service.js';
import { MCC_VERSION } from './host-id.js';
import { line, toJson, type Out } from './output.js';

// `mcc --auto`: the headless driver of the same core service. One daemon per host acts at a time (the lease
// `auto-daemon:<host>`, a row with an expiry); SIGINT/SIGTERM finish the current pass and exit 0. The holder
// names this process beyond pid reuse, so a successor on this host takes a SIGKILLed daemon's lease at once.
// Each pass renews the host's heartbeat before it judges anything: a host that was forgotten meanwhile
// (fenced) retires what it left running and registers again, never resuming it. While it holds the lease it
// is also its host's command worker: commands other hosts queued for runtimes of this host are claimed and run
// every pass, and at once when the store's notification wakes it (PostgreSQL); with --pickup it claims todo
// tickets with the other hosts' daemons, each up to its own --max-runtimes.

export interface DaemonOptions {
  intervalMs: number;
  once: boolean;
  dryRun: boolean;
  pickup: boolean;
  maxRuntimes: number;
  json: boolean;
  /** What other hosts run `ssh` with to attach here (`--ssh-target`, else the config's); null: none. */
  sshTarget?: string | null;
  /** This host's labels (`--label`, stored on its hosts row): tickets with a host label need one of them. */
  labels?: readonly string[];
  /** What ends the wait between passes when a command is queued for this host (default: polling only). */
  wake?: CommandWake;
}

function emit(out: Out, json: boolean, record: Record<string, unknown>): void {
  if (json) out.stdout(`${toJson({ at: new Date().toISOString(), ...record }, false)}\n`);
  else line(out, `${new Date().toISOString()} ${String(record['kind'])} ${String(record['text'])}`);
}

/** Run the daemon until signalled (or one pass with `once`); resolves to the exit code. */
export async function runDaemon(
  service: MissionControl,
  opts: DaemonOptions,
  out: Out,
  signal: AbortSignal,
): Promise<number> {
  const { clock } = service;
  const holder = await service.processHolder(process.pid);
  const label = holderLabel(holder);
  const leaseMs = Math.max(opts.intervalMs * 3, 10_000);
  const leaseName = daemonLeaseName(service.host);
  const printed = new Set<string>();
  let waitingSaid = false;
  let exitCode = 0;
  const checks = new ChecksRunner(service, {
    onDone: (key, text, good) => emit(out, opts.json, { kind: good ? 'checks' : 'checks-failed', ticket: key, text }),
  });
  const worker = service.commandWorker(holder);
  const wake = opts.wake ?? pollingWake();
  /** Set once a pass holds the lease and has beaten the heartbeat; cleared when the lease is not ours. */
  let holding = false;

  let draining: Promise<void> | null = null;
  let drainAgain = false;
  // Read through a call: the flag is set by another caller while this one awaits the worker.
  const askedAgain = (): boolean => drainAgain;
  /**
   * Run this host's queued commands: only the lease holder does (a command is run by one daemon), and a
   * dry run changes nothing. A wake-up between passes first checks the lease is still ours and unexpired.
   * One drain at a time, each printed once: a call during a drain asks for one more drain after it (what was
   * queued meanwhile), instead of sharing the report of a drain that may have claimed before it.
   */
  const drainCommands = async (via: 'pass' | 'notify'): Promise<void> => {
    if (!holding || opts.dryRun) return;
    if (via === 'notify') {
      const l = await service.readLease(leaseName);
      if (l === null || l.holder !== holder || l.expiresAt <= clock.now()) return;
    }
    if (draining !== null) {
      drainAgain = true;
      return draining;
    }
    draining = (async () => {
      do {
        drainAgain = false;
        printDrain(out, opts.json, await worker.drain(), via);
      } while (askedAgain());
    })().finally(() => {
      draining = null;
    });
    return draining;
  };

  /**
   * A daemon of an mcc from before hosts had ids holds `auto-daemon` for the whole store: while it lives, this
   * one waits; a dead or expired holder's row is taken over and dropped (once, then there is none to read).
   */
  const legacyLease = async (): Promise<{ ok: true } | { ok: false; message: string; holder?: string }> => {
    if ((await service.readLease(DAEMON_LEASE)) === null) return { ok: true };
    const got = await service.acquireLease(DAEMON_LEASE, holder, leaseMs);
    if (!got.ok) return got;
    await service.releaseLease(DAEMON_LEASE, holder);
    return { ok: true };
  };

  const pass = async (): Promise<void> => {
    const legacy = await legacyLease();
    const lease = legacy.ok ? await service.acquireLease(leaseName, holder, leaseMs) : legacy;
    if (!lease.ok) {
      if (!waitingSaid)
        emit(out, opts.json, { kind: 'lease', text: `${lease.message}; waiting`, holder: lease.holder });
      waitingSaid = true;
      holding = false;
      if (opts.once) exitCode = 3;
      return;
    }
    const taken = lease.value.takenOver;
    if (taken !== undefined)
      emit(out, opts.json, {
        kind: 'lease',
        text: `took over the lease of dead daemon ${taken.from} (${taken.why}); lease acquired by ${label}`,
        holder: label,
        from: taken.from,
      });
    else if (waitingSaid) emit(out, opts.json, { kind: 'lease', text: `lease acquired by ${label}` });
    waitingSaid = false;
    const beat = await service.hosts.heartbeat({
      version: MCC_VERSION,
      labels: opts.labels ?? [],
      ...(opts.sshTarget !== undefined ? { sshTarget: opts.sshTarget } : {}),
    });
    if (!beat.ok) {
      holding = false;
      // Not registered: nothing is judged this pass (a fenced host must not adopt what it could not retire).
      emit(out, opts.json, { kind: 'error', text: `host ${service.host}: heartbeat ${beat.code}: ${beat.message}` });
      if (opts.once) exitCode = 1;
      return;
    }
    if (beat.value.fencedFrom !== undefined) {
      const retired = beat.value.retired;
      const text = beat.value.fencedText ?? '';
      emit(out, opts.json, { kind: 'fenced', text, retired });
    }
    holding = true;
    const report = await service.reconcile(opts.dryRun ? 'dry-run' : 'auto');
    const current = new Set<string>();
    for (const a of report.applied) {
      const f = a.finding;
      const id = `${f.ticketKey}|${f.drift}|${f.summary}`;
      current.add(id);
      const isAction = a.outcome !== 'skipped';
      const isWarning = f.severity !== 'info' && f.action.type === 'none';
      // Routine status bookkeeping is not worth a line; actions and new warnings are.
      if (f.action.type === 'observe') continue;
      if (
        isAction ||
        (isWarning && !printed.has(id)) ||
        (opts.dryRun && f.action.type !== 'wait' && !printed.has(id))
      ) {
        emit(out, opts.json, {
          kind: isAction ? a.outcome : 'warning',
          ticket: f.ticketKey,
          drift: f.drift,
          text: `${f.ticketKey ? `${f.ticketKey}: ` : ''}${f.summary}${a.detail ? ` (${a.detail})` : ''}`,
        });
        if (!isAction) printed.add(id);
      }
    }
    for (const id of printed) if (!current.has(id)) printed.delete(id);
    await drainCommands('pass');
    // Started, not awaited: checks run beside the passes and write their own evidence when they end.
    if (!opts.dryRun) await checks.tick();
    if (opts.pickup && !opts.dryRun && report.snapshot.tmux.kind === 'ok')
      await autoPickup(service, ownSlots(report), opts, out);
  };

  /** Between passes: a notified wake runs the commands queued meanwhile at once (a timeout waits for the pass). */
  const stopCommands = new AbortController();
  const commandLoop = async (): Promise<void> => {
    while (!stopCommands.signal.aborted) {
      const why = await wake.wait(stopCommands.signal, opts.intervalMs);
      if (why !== 'notified') continue;
      try {
        await drainCommands('notify');
      } catch (e) {
        emit(out, opts.json, { kind: 'error', text: `commands: ${(e as Error).message}` });
      }
    }
  };

  if (opts.once) {
    try {
      await pass();
    } catch (e) {
      emit(out, opts.json, { kind: 'error', text: `pass failed: ${(e as Error).message}` });
      exitCode = 1;
    }
    await checks.drain();
    await wake.close();
    await service.releaseLease(leaseName, holder);
    return exitCode;
  }
  emit(out, opts.json, {
    kind: 'start',
    text: `mcc --auto every ${opts.intervalMs / 1000}s on host ${service.host} socket ${service.socket}, store ${service.storeLocation}${opts.dryRun ? ' (dry run)' : ''}`,
  });
  const commands = commandLoop();
  await new Promise<void>((resolveDone) => {
    let inFlight: Promise<void> = Promise.resolve();
    const poller = new Poller(
      () => {
        inFlight = pass();
        return inFlight;
      },
      {
        intervalMs: opts.intervalMs,
        clock,
        ...(service.tmuxHints ? { hints: service.tmuxHints } : {}),
        onError: (e, n) =>
          emit(out, opts.json, {
            kind: 'error',
            text: `pass failed (${n} in a row, backing off): ${(e as Error).message}`,
          }),
      },
    );
    // Keep the process alive while the poller's timers are unref'd.
    const keepAlive = setInterval(() => undefined, 1 << 30);
    signal.addEventListener(
      'abort',
      () => {
        void poller.stop();
        void inFlight
          .catch(() => undefined)
          .finally(() => {
            clearInterval(keepAlive);
            resolveDone();
          });
      },
      { once: true },
    );
    poller.start();
  });
  stopCommands.abort();
  await commands;
  await wake.close();
  await checks.stop();
  await service.releaseLease(leaseName, holder);
  emit(out, opts.json, { kind: 'stop', text: 'finished the current pass; lease released' });
  return 0;
}

/** One line per command this host's worker ran, recovered or expired. */
function printDrain(out: Out, json: boolean, report: DrainReport, via: 'pass' | 'notify'): void {
  for (const c of report.expired)
    emit(out, json, {
      kind: 'command-expired',
      id: c.id,
      ticket: c.ticketKey,
      text: `${describeCommand(c)} expired: no daemon of ${c.targetHost} took it in time`,
    });
  for (const r of report.runs) {
    const res = r.result;
    emit(out, json, {
      kind: 'command',
      id: r.command.id,
      ticket: r.command.ticketKey,
      status: res.ok ? 'done' : 'failed',
      via,
      ...(res.ok ? {} : { code: res.code }),
      text:
        `${describeCommand(r.command)} ${res.ok ? `done: ${res.summary}` : `failed (${res.code}): ${res.message}`}` +
        (r.rerun ? ' (run again: its first claimer died)' : '') +
        (r.recorded ? '' : ' (the result is not in the store yet: recorded by the next drain)'),
    });
  }
}

/** The runtimes of this host that hold a pickup slot: other hosts' runtimes count against their own caps. */
function ownSlots(report: PassReport): number {
  const { rows, where } = report.snapshot;
  return runtimesHoldingSlots({ rows: { ...rows, runtimes: rows.runtimes.filter((r) => isHostOf(r, where)) } });
}

/**
 * Start todo tickets up to this host's room: each step claims the next ticket no other host is claiming
 * (pickupNext), so several hosts' daemons share one queue without fighting over a row.
 */
async function autoPickup(service: MissionControl, openRuntimes: number, opts: DaemonOptions, out: Out): Promise<void> {
  let room = opts.maxRuntimes - openRuntimes;
  const passedOver = new Set<string>();
  // Bounded: every step starts a ticket or passes one over, and a failing store stops the round.
  for (let steps = 0; room > 0 && steps < opts.maxRuntimes + 50; steps++) {
    const next = await service.pickupNext({ labels: opts.labels ?? [], exclude: passedOver });
    if (!next.ok) {
      emit(out, opts.json, { kind: 'declined', text: `pickup ${next.code}: ${next.message}` });
      return;
    }
    for (const d of next.value.declined) {
      passedOver.add(d.key);
      emit(out, opts.json, {
        kind: 'declined',
        ticket: d.key,
        text: `${d.key}: pickup ${d.failure.code}: ${d.failure.message}`,
      });
    }
    const o = next.value.outcome;
    if (o !== null) {
      room--;
      emit(out, opts.json, {
        kind: 'pickup',
        ticket: o.ticket.key,
        text: `${o.ticket.key}: ${o.how} ${o.runtime.tmuxSession}, prompt ${o.prompt}`,
      });
    } else if (next.value.declined.length === 0) return;
  }
}
