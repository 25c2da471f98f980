import { Box, Text } from 'ink';
import type { ConsoleState } from '../core/console-model.js';
import { holderLabel } from '../core/lease-holder.js';
import { sanitizeLine } from '../core/sanitize.js';
import { TICKET_STATUSES } from '../core/types.js';
import { useDeps } from './context.js';
import { shortAge, truncate } from './text.js';
import type { Tone } from './ui-store.js';

// Three lines: where we are (store, socket, daemon), the counts, and how fresh the observation is. An
// unknown or stale observation is said in capitals, never implied by a colour.

/** What the observation line says, and how loud. */
export function observationLine(state: ConsoleState | null): { text: string; tone: Tone } {
  if (!state) return { text: 'waiting for the first observation…', tone: 'info' };
  const o = state.observation;
  const since = o.lastOkAt === null ? 'never observed' : `last good observation ${shortAge(state.at - o.lastOkAt)} ago`;
  const reason = sanitizeLine(o.reason ?? '');
  switch (o.state) {
    case 'ok':
      return { text: `observed ${o.lastOkAt === null ? '?' : shortAge(state.at - o.lastOkAt)} ago`, tone: 'ok' };
    case 'unknown':
      return { text: `OBSERVATION UNKNOWN: ${reason || 'no reason given'} (${since}); runtimes show ?`, tone: 'error' };
    case 'stale':
      return {
        text:
          o.lastOkAt === null
            ? `STALE: ${reason || 'no observation yet'}`
            : `STALE ${shortAge(state.at - o.lastOkAt)}: ${reason}`,
        tone: 'warn',
      };
    default: {
      const never: never = o.state;
      throw new Error(`unhandled observation ${String(never)}`);
    }
  }
}

/** The counts line: drift first, then runtimes, then tickets per state. */
export function countsLine(state: ConsoleState | null): string {
  if (!state) return 'no data yet';
  const counts = TICKET_STATUSES.map((s) => `${s}:${state.counts[s]}`).join(' ');
  return `drift ${state.driftCount}  runtimes ${state.liveRuntimes}/${state.openRuntimes} live  ${counts}`;
}

/** The identity line: mode, socket, daemon lease, store path (last, so a long path is what gets cut). */
export function identityLine(
  state: ConsoleState | null,
  opts: { dbPath: string; socket: string; readonly: boolean },
): string {
  const lease =
    state?.lease && state.lease.expiresAt > state.at
      ? `daemon ${sanitizeLine(holderLabel(state.lease.holder))}`
      : 'no daemon';
  const mode = opts.readonly ? 'READ-ONLY  ' : '';
  return `mcc  ${mode}socket ${sanitizeLine(opts.socket)}  ${lease}  store ${sanitizeLine(opts.dbPath)}`;
}

/** At most this many host lines under the header; the rest are counted on the last one. */
const MAX_HOST_LINES = 4;

/** Whether the store has more than one host the grid should tell apart (forgotten ones do not count). */
export function severalHosts(state: ConsoleState | null): boolean {
  return (state?.hosts ?? []).filter((h) => h.reach.kind !== 'forgotten').length > 1;
}

/**
 * The lines under the header: one per host when there is more than one (id, heartbeat age, runtimes), and a
 * banner for each UNREACHABLE host whatever their number. None for a one-host operator.
 */
export function hostLines(state: ConsoleState | null): { text: string; tone: Tone }[] {
  if (!state) return [];
  const hosts = (state.hosts ?? []).filter((h) => h.reach.kind !== 'forgotten');
  // Ages as of the pass that read them, moved on by the clock since.
  const since = Math.max(0, state.at - (state.hostsAt ?? state.at));
  const lines: { text: string; tone: Tone }[] = [];
  for (const h of hosts) {
    const id = sanitizeLine(h.host.id);
    if (h.reach.kind === 'unreachable') {
      lines.push({
        text:
          `HOST ${id} UNREACHABLE: last heartbeat ${shortAge(h.reach.ageMs + since)} ago; its ${h.openRuntimes} runtime(s) ` +
          `show ? and nothing is closed or re-queued (mcc host forget ${id} fences it)`,
        tone: 'error',
      });
    } else if (hosts.length > 1 && h.reach.kind === 'reachable') {
      lines.push({
        text: `host ${id}  heartbeat ${shortAge(h.reach.ageMs + since)} ago  runtimes ${h.openRuntimes}`,
        tone: 'info',
      });
    }
  }
  if (lines.length <= MAX_HOST_LINES) return lines;
  // Banners first, so an UNREACHABLE host is never the one cut.
  lines.sort((a, b) => Number(b.tone === 'error') - Number(a.tone === 'error'));
  const shown = lines.slice(0, MAX_HOST_LINES - 1);
  return [...shown, { text: `... and ${lines.length - shown.length} more host line(s): mcc hosts`, tone: 'info' }];
}

/** The console header. */
export function Header(props: { state: ConsoleState | null; width: number }) {
  const { dbPath, socket, readonly, theme } = useDeps();
  const { state, width } = props;
  const obs = observationLine(state);
  const drift = (state?.driftCount ?? 0) > 0;
  const hosts = hostLines(state);
  return (
    <Box flexDirection="column" height={3 + hosts.length}>
      <Text wrap="truncate" bold>
        {truncate(identityLine(state, { dbPath, socket, readonly }), width)}
      </Text>
      <Text wrap="truncate" color={drift ? theme.badge : undefined}>
        {truncate(countsLine(state), width)}
      </Text>
      <Text wrap="truncate" color={theme.tone(obs.tone)} bold={obs.tone === 'error' || obs.tone === 'warn'}>
        {truncate(obs.text, width)}
      </Text>
      {hosts.map((l, i) => (
        <Text key={i} wrap="truncate" color={theme.tone(l.tone)} bold={l.tone === 'error'}>
          {truncate(l.text, width)}
        </Text>
      ))}
    </Box>
  );
}
