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

/** The console header. */
export function Header(props: { state: ConsoleState | null; width: number }) {
  const { dbPath, socket, readonly, theme } = useDeps();
  const { state, width } = props;
  const obs = observationLine(state);
  const drift = (state?.driftCount ?? 0) > 0;
  return (
    <Box flexDirection="column" height={3}>
      <Text wrap="truncate" bold>
        {truncate(identityLine(state, { dbPath, socket, readonly }), width)}
      </Text>
      <Text wrap="truncate" color={drift ? theme.badge : undefined}>
        {truncate(countsLine(state), width)}
      </Text>
      <Text wrap="truncate" color={theme.tone(obs.tone)} bold={obs.tone === 'error' || obs.tone === 'warn'}>
        {truncate(obs.text, width)}
      </Text>
    </Box>
  );
}
