import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { hostIdentity, hostIdProblem, type HostIdentity } from '../core/hosts.js';
import { fail, ok, type Result } from '../core/result.js';

// Which host this process is: `--host NAME`, else MCC_HOST, else the hostname plus a short form of
// /etc/machine-id (two containers or VMs cloned from one image often share a hostname, never a machine id).

/** The version a daemon records in its host row. */
export const MCC_VERSION = '0.1.0';

function machineId(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    // No machine id (minimal containers): the hostname alone names the host.
    return null;
  }
}

/** This process's host identity, or `invalid` (exit 2) naming the bad `--host` / MCC_HOST. */
export function resolveHostIdentity(opts: {
  flag?: string;
  env: NodeJS.ProcessEnv;
  hostname?: string;
  machineIdPath?: string;
}): Result<HostIdentity> {
  const given = opts.flag ?? (opts.env['MCC_HOST'] || undefined);
  if (given !== undefined) {
    const problem = hostIdProblem(given);
    if (problem !== null) return fail('invalid', `${opts.flag !== undefined ? '--host' : 'MCC_HOST'}: ${problem}`);
  }
  return ok(
    hostIdentity({
      override: given ?? null,
      hostname: opts.hostname ?? hostname(),
      machineId: machineId(opts.machineIdPath ?? '/etc/machine-id'),
    }),
  );
}

/** This machine's default host id (no override): what tests and `mcc doctor` expect rows to carry. */
export function defaultHostId(): string {
  const id = resolveHostIdentity({ env: {} });
  if (!id.ok) throw new Error(id.message);
  return id.value.id;
}
