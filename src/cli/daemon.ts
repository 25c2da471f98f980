import { DAEMON_LEASE, daemonLeaseName } from '../core/console-controller.js';
import { ChecksRunner } from '../core/checks-runner.js';
import { holderLabel } from '../core/lease-holder.js';
import { Poller } from '../core/poller.js';
import { runtimesHoldingSlots } from '../core/review.js';
import type { MissionControl } from '../core/service.js';
import { MCC_VERSION } from './host-id.js';
import { line, toJson, type Out } from './output.js';

// `mcc --auto`: the headless driver of the same core service. One daemon per host acts at a time (the lease
// `auto-daemon:<host>`, a row with an expiry); SIGINT/SIGTERM finish the current pass and exit 0. The holder
// names this process beyond pid reuse, so a successor on this host takes a SIGKILLed daemon's lease at once.
// Each pass renews the host's heartbeat before it judges anything: a host that was forgotten meanwhile
// (fenced) retires what it left running and registers again, never resuming it.

export interface DaemonOptions {
  intervalMs: number;
  once: boolean;
  dryRun: boolean;
  pickup: boolean;
  maxRuntimes: number;
  json: boolean;
  /** What other hosts run `ssh` with to attach here (`--ssh-target`, else the config's); null: none. */
  sshTarget?: string | null;
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
      ...(opts.sshTarget !== undefined ? { sshTarget: opts.sshTarget } : {}),
    });
    if (!beat.ok) {
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
    // Started, not awaited: checks run beside the passes and write their own evidence when they end.
    if (!opts.dryRun) await checks.tick();
    if (opts.pickup && !opts.dryRun && report.snapshot.tmux.kind === 'ok')
      await autoPickup(service, runtimesHoldingSlots(report.snapshot), opts, out);
  };

  if (opts.once) {
    try {
      await pass();
    } catch (e) {
      emit(out, opts.json, { kind: 'error', text: `pass failed: ${(e as Error).message}` });
      exitCode = 1;
    }
    await checks.drain();
    await service.releaseLease(leaseName, holder);
    return exitCode;
  }
  emit(out, opts.json, {
    kind: 'start',
    text: `mcc --auto every ${opts.intervalMs / 1000}s on host ${service.host} socket ${service.socket}, store ${service.storeLocation}${opts.dryRun ? ' (dry run)' : ''}`,
  });
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
  await checks.stop();
  await service.releaseLease(leaseName, holder);
  emit(out, opts.json, { kind: 'stop', text: 'finished the current pass; lease released' });
  return 0;
}

async function autoPickup(service: MissionControl, openRuntimes: number, opts: DaemonOptions, out: Out): Promise<void> {
  let room = opts.maxRuntimes - openRuntimes;
  if (room <= 0) return;
  const todo = await service.pickupCandidates();
  for (const t of todo) {
    if (room <= 0) break;
    const res = await service.pickup(t.key);
    if (res.ok) {
      room--;
      emit(out, opts.json, {
        kind: 'pickup',
        ticket: t.key,
        text: `${t.key}: ${res.value.how} ${res.value.runtime.tmuxSession}, prompt ${res.value.prompt}`,
      });
    } else {
      emit(out, opts.json, { kind: 'declined', ticket: t.key, text: `${t.key}: pickup ${res.code}: ${res.message}` });
    }
  }
}
