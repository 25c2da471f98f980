import type { HostDirectory, HostState } from './commands.js';
import type { HostView } from './hosts.js';

// The host registry as the command desk asks it: is the host a command is for alive, unreachable, forgotten,
// or never seen? Read fresh on each ask (an action is rare; a stale answer would hide an UNREACHABLE host).

/** The state of `host` among `views` (pure). */
export function hostStateOf(views: readonly HostView[], host: string): HostState {
  const v = views.find((x) => x.host.id === host);
  if (v === undefined) return { kind: 'unknown' };
  switch (v.reach.kind) {
    case 'reachable':
      return { kind: 'alive', heartbeatAgeMs: v.reach.ageMs };
    case 'unreachable':
      return { kind: 'unreachable', heartbeatAgeMs: v.reach.ageMs };
    case 'forgotten':
      return { kind: 'forgotten' };
    default: {
      const never: never = v.reach;
      throw new Error(`unhandled reachability ${String(never)}`);
    }
  }
}

/** A HostDirectory over the host registry's list (HostService). */
export function registryDirectory(hosts: { list(): Promise<HostView[]> }): HostDirectory {
  return { stateOf: async (host) => hostStateOf(await hosts.list(), host) };
}
