import { z } from 'zod';
import { fail, ok, type Result } from './result.js';
import { HOST_LABEL_RE, HOST_LABEL_RULE, SSH_TARGET_RE } from './hosts.js';
import { agentProfiles, shellProfile } from './profiles.js';
import { BoundedRegExp, regexHazard } from './regex-guard.js';
import type { ScreenRules } from './screen.js';
import { ENV_NAME_RE, TMUX_KEY_NAME_RE } from './tmux.port.js';

// The config file format. Parsing is pure: the CLI reads the file and hands the text over, so a bad
// config is reported before anything is opened or written.

// Profile patterns run on untrusted screen text on every pass: one that can backtrack catastrophically is
// refused here (src/core/regex-guard.ts says which ones and why), not discovered as a stalled daemon.
const regexSource = z.string().superRefine((src, ctx) => {
  try {
    new RegExp(src);
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: `not a valid regular expression: ${(e as Error).message}` });
    return;
  }
  const hazard = regexHazard(src);
  if (hazard !== null)
    ctx.addIssue({ code: 'custom', message: `pattern ${JSON.stringify(src)} refused, it may backtrack: ${hazard}` });
});

/** A duration an operator writes: `90` or `90s`, `30m`, `2h`; seconds, or null when it is not one. */
export function durationSeconds(text: string): number | null {
  const m = /^([1-9][0-9]{0,6})([smh]?)$/.exec(text.trim());
  if (!m) return null;
  const unit = m[2] === 'h' ? 3600 : m[2] === 'm' ? 60 : 1;
  const secs = Number(m[1]) * unit;
  return secs <= 7 * 86_400 ? secs : null;
}

const duration = z
  .string()
  .refine((t) => durationSeconds(t) !== null, 'not a duration up to 7 days (e.g. 90s, 30m, 2h)');

/** One review check: an argv, never a shell string. */
const checkArgv = z.array(z.string().min(1, 'empty argv element')).min(1, 'must name a program');

const keyName = z.string().regex(TMUX_KEY_NAME_RE, 'not a tmux key name (e.g. Enter, Escape, C-c)');

const absolutePath = z
  .string()
  .min(2)
  .regex(/^\//, 'must be an absolute path')
  .refine((p) => !p.includes('\0'), 'must not contain a NUL byte');

/** Work isolation for a profile's agents: a git worktree per ticket, a fixed pool of slots, or none. */
export const workspaceSchema = z
  .object({
    repo: absolutePath.optional(),
    mode: z.enum(['worktree', 'pool', 'none']).optional(),
    base: z.string().min(1).optional(),
    poolSize: z.number().int().min(1).max(64).optional(),
    root: absolutePath.optional(),
  })
  .strict()
  .superRefine((w, ctx) => {
    const mode = w.mode ?? 'none';
    if (mode !== 'none' && w.repo === undefined)
      ctx.addIssue({ code: 'custom', path: ['repo'], message: `required for mode "${mode}"` });
    if (w.poolSize !== undefined && mode !== 'pool')
      ctx.addIssue({ code: 'custom', path: ['poolSize'], message: 'only for mode "pool"' });
  });

export const profileSchema = z
  .object({
    command: z.array(z.string().min(1, 'empty argv element')).min(1, 'must name a program'),
    cwd: z.string().min(1).optional(),
    env: z.record(z.string().regex(ENV_NAME_RE, 'not an environment variable name'), z.string()).optional(),
    ready: regexSource.optional(),
    busy: regexSource.optional(),
    question: regexSource.optional(),
    blocked: regexSource.optional(),
    interrupt: z.array(keyName).min(1).optional(),
    submit: z.array(keyName).min(1).optional(),
    promptLines: z.number().int().min(1).max(50).optional(),
    tailLines: z.number().int().min(1).max(200).optional(),
    quietMs: z.number().int().min(0).max(600_000).optional(),
    readyTimeoutSeconds: z.number().int().positive().max(86_400).optional(),
    workspace: workspaceSchema.optional(),
    checks: z.array(checkArgv).max(20).optional(),
    checkTimeoutSeconds: z.number().int().positive().max(86_400).optional(),
    reviewIdleSeconds: z
      .number()
      .int()
      .positive()
      .max(7 * 86_400)
      .optional(),
    checkIn: duration.optional(),
    hostLabel: z.string().regex(HOST_LABEL_RE, HOST_LABEL_RULE).optional(),
  })
  .strict();

/** A profile in the config file: every field optional where a built-in profile of that name supplies it. */
const profileOverrideSchema = profileSchema.partial().strict();

export const configSchema = z
  .object({
    defaultProfile: z.string().min(1).optional(),
    ttlSeconds: z.number().int().positive().max(86_400).optional(),
    hostTtlSeconds: z.number().int().positive().max(86_400).optional(),
    sshTarget: z
      .string()
      .regex(SSH_TARGET_RE, 'an ssh destination (user@host, an ssh_config alias): no spaces, not starting with -')
      .optional(),
    retryLimit: z.number().int().positive().max(100).optional(),
    intervalSeconds: z.number().positive().max(3600).optional(),
    socket: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, dot, dash, underscore only')
      .optional(),
    profiles: z
      .record(z.string().regex(/^[A-Za-z0-9._-]{1,40}$/, 'bad profile name'), profileOverrideSchema)
      .optional(),
  })
  .strict();

export type ProfileInput = z.infer<typeof profileSchema>;

/** A profile ready to use: regexes compiled, defaults filled. */
export interface Profile extends ScreenRules {
  name: string;
  command: string[];
  cwd: string | null;
  env: Record<string, string>;
  interrupt: string[];
  submit: string[];
  /** A message pending this long while its runtime lives raises one NOT-READY warning. */
  readyTimeoutMs: number;
  /** Review checks run once per REVIEW: marker in the runtime's workdir, each an argv. */
  checks: string[][];
  /** Each check is killed after this long and recorded as timed out. */
  checkTimeoutMs: number;
  /** An in_review ticket's idle runtime is retired after this long (its files are kept). */
  reviewIdleMs: number;
  /** Expected check-in of a ticket that names none; null: none expected. */
  checkInMs: number | null;
  /** Where its agents work; null: in `cwd`, as they always did (mode `none`). */
  workspace: WorkspaceConfig | null;
  /** Its tickets run only on a host carrying this label (`mcc --auto --label`), unless a ticket names its own. */
  hostLabel: string | null;
}

export interface WorkspaceConfig {
  /** The repository's main checkout. */
  repo: string;
  mode: 'worktree' | 'pool';
  /** The branch new work starts from; null: the repository's current HEAD branch at pickup. */
  base: string | null;
  poolSize: number;
  /** Where the worktrees and pool slots live. */
  root: string;
}

export const WORKSPACE_DEFAULTS = { poolSize: 3 };

/**
 * A sibling of the repository, not a directory inside it: worktrees inside the main checkout would show up as
 * untracked there, and the main checkout's tools (tsc, eslint, test runners) would walk into every copy.
 */
export function defaultWorkspaceRoot(repo: string): string {
  return `${repo.replace(/\/+$/, '')}.mcc-worktrees`;
}

function compileWorkspace(w: z.infer<typeof workspaceSchema> | undefined): WorkspaceConfig | null {
  const mode = w?.mode ?? 'none';
  if (!w || mode === 'none' || w.repo === undefined) return null;
  const repo = w.repo.replace(/(.)\/+$/, '$1');
  return {
    repo,
    mode,
    base: w.base ?? null,
    poolSize: w.poolSize ?? WORKSPACE_DEFAULTS.poolSize,
    root: (w.root ?? defaultWorkspaceRoot(repo)).replace(/(.)\/+$/, '$1'),
  };
}

export interface Config {
  defaultProfile: string;
  ttlSeconds: number;
  /** A host whose daemon's heartbeat is older than this is UNREACHABLE (its runtimes show `?`). */
  hostTtlSeconds: number;
  /** What other hosts run `ssh` with to attach to this host's sessions; null: not set. */
  sshTarget: string | null;
  retryLimit: number;
  intervalSeconds: number;
  socket: string;
  profiles: Record<string, Profile>;
  /** Profiles the config file names (the rest are built-in), for `mcc doctor`. */
  fileProfiles: readonly string[];
  /** Where the config came from, for `mcc doctor`; null when built-in defaults only. */
  source: string | null;
}

export const DEFAULTS = {
  defaultProfile: 'demo',
  ttlSeconds: 30,
  hostTtlSeconds: 30,
  retryLimit: 3,
  intervalSeconds: 1,
  socket: 'mcc',
};

/** The readiness contract's defaults (README "Readiness"); a profile overrides any of them. */
export const SCREEN_DEFAULTS = { promptLines: 4, tailLines: 15, quietMs: 1500, readyTimeoutSeconds: 120 };

/** The review gate's defaults (docs/review.md). */
export const REVIEW_DEFAULTS = { checkTimeoutSeconds: 600, reviewIdleSeconds: 600 };

/** How to start this very program (node + its entry script), for the built-in demo profile. */
export interface SelfCommand {
  argv: string[];
}

/** The built-in profiles: `demo` (the bundled demo agent), `shell`, and the real agent CLIs. */
export function builtinProfiles(self: SelfCommand, shell = '/bin/sh'): Record<string, ProfileInput> {
  return {
    demo: {
      command: [...self.argv, 'demo-agent'],
      ready: '^demo> ?$',
      busy: 'esc to interrupt',
      question: '^QUESTION:',
      interrupt: ['Escape'],
      submit: ['Enter'],
      // The demo prompt is always the last line: output after it means the agent is printing.
      promptLines: 1,
    },
    shell: shellProfile(shell),
    ...agentProfiles(),
  };
}

function compileProfile(name: string, p: ProfileInput): Profile {
  const re = (s: string | undefined) => (s === undefined ? null : new BoundedRegExp(s));
  return {
    name,
    command: p.command,
    cwd: p.cwd ?? null,
    env: p.env ?? {},
    ready: re(p.ready),
    busy: re(p.busy),
    question: re(p.question),
    blocked: re(p.blocked),
    interrupt: p.interrupt ?? ['Escape'],
    submit: p.submit ?? ['Enter'],
    promptLines: p.promptLines ?? SCREEN_DEFAULTS.promptLines,
    tailLines: p.tailLines ?? SCREEN_DEFAULTS.tailLines,
    quietMs: p.quietMs ?? SCREEN_DEFAULTS.quietMs,
    readyTimeoutMs: (p.readyTimeoutSeconds ?? SCREEN_DEFAULTS.readyTimeoutSeconds) * 1000,
    workspace: compileWorkspace(p.workspace),
    checks: p.checks ?? [],
    checkTimeoutMs: (p.checkTimeoutSeconds ?? REVIEW_DEFAULTS.checkTimeoutSeconds) * 1000,
    reviewIdleMs: (p.reviewIdleSeconds ?? REVIEW_DEFAULTS.reviewIdleSeconds) * 1000,
    checkInMs: p.checkIn === undefined ? null : (durationSeconds(p.checkIn) ?? 0) * 1000,
    hostLabel: p.hostLabel ?? null,
  };
}

/** A ticket's profile by its exact name: a profile missing from the config is never replaced by another one. */
export function profileNamed(config: Pick<Config, 'profiles'>, name: string): Profile | undefined {
  return Object.hasOwn(config.profiles, name) ? config.profiles[name] : undefined;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.length ? issue.path.map(String).join('.') : '(top level)';
  return `${path}: ${issue.message}`;
}

/** Parse and validate config text; errors name the offending key. `text` null = no config file. */
export function parseConfig(text: string | null, source: string | null, self: SelfCommand): Result<Config> {
  let raw: unknown = {};
  if (text !== null) {
    try {
      raw = JSON.parse(text);
    } catch (e) {
      return fail('invalid', `config ${source}: not valid JSON: ${(e as Error).message}`);
    }
  }
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const lines = parsed.error.issues.map(describeIssue);
    return fail('invalid', `config ${source ?? '(defaults)'}: ${lines.join('; ')}`);
  }
  const c = parsed.data;
  const builtin = builtinProfiles(self);
  const profiles: Record<string, Profile> = {};
  for (const [name, p] of Object.entries(builtin)) profiles[name] = compileProfile(name, p);
  // A profile in the file overrides the built-in of the same name field by field; a new one needs a command.
  for (const [name, over] of Object.entries(c.profiles ?? {})) {
    const base = Object.hasOwn(builtin, name) ? builtin[name] : undefined;
    const command = over.command ?? base?.command;
    if (!command) {
      return fail(
        'invalid',
        `config ${source}: profiles.${name}.command: required (there is no built-in profile "${name}")`,
      );
    }
    profiles[name] = compileProfile(name, { ...base, ...over, command, env: { ...base?.env, ...over.env } });
  }
  const defaultProfile = c.defaultProfile ?? DEFAULTS.defaultProfile;
  if (!profiles[defaultProfile]) {
    return fail('invalid', `config ${source}: defaultProfile: no profile named "${defaultProfile}"`);
  }
  return ok({
    defaultProfile,
    ttlSeconds: c.ttlSeconds ?? DEFAULTS.ttlSeconds,
    hostTtlSeconds: c.hostTtlSeconds ?? DEFAULTS.hostTtlSeconds,
    sshTarget: c.sshTarget ?? null,
    retryLimit: c.retryLimit ?? DEFAULTS.retryLimit,
    intervalSeconds: c.intervalSeconds ?? DEFAULTS.intervalSeconds,
    socket: c.socket ?? DEFAULTS.socket,
    profiles,
    fileProfiles: Object.keys(c.profiles ?? {}),
    source,
  });
}
