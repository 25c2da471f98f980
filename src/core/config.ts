import { z } from 'zod';
import { fail, ok, type Result } from './result.js';

// The config file format. Parsing is pure: the CLI reads the file and hands the text over, so a bad
// config is reported before anything is opened or written.

const TMUX_KEY_RE =
  /^(?:[CMS]-)*(?:[A-Za-z0-9]|Enter|Escape|Tab|BSpace|Space|Up|Down|Left|Right|Home|End|PageUp|PageDown|F[0-9]{1,2}|DC|IC|BTab)$/;

const regexSource = z.string().superRefine((src, ctx) => {
  try {
    new RegExp(src, 'm');
  } catch (e) {
    ctx.addIssue({ code: 'custom', message: `not a valid regular expression: ${(e as Error).message}` });
  }
});

const keyName = z.string().regex(TMUX_KEY_RE, 'not a tmux key name (e.g. Enter, Escape, C-c)');

export const profileSchema = z
  .object({
    command: z.array(z.string().min(1, 'empty argv element')).min(1, 'must name a program'),
    cwd: z.string().min(1).optional(),
    env: z
      .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'not an environment variable name'), z.string())
      .optional(),
    ready: regexSource.optional(),
    busy: regexSource.optional(),
    question: regexSource.optional(),
    interrupt: z.array(keyName).min(1).optional(),
    submit: z.array(keyName).min(1).optional(),
  })
  .strict();

export const configSchema = z
  .object({
    defaultProfile: z.string().min(1).optional(),
    ttlSeconds: z.number().int().positive().max(86_400).optional(),
    retryLimit: z.number().int().positive().max(100).optional(),
    intervalSeconds: z.number().positive().max(3600).optional(),
    socket: z
      .string()
      .regex(/^[A-Za-z0-9._-]{1,64}$/, 'letters, digits, dot, dash, underscore only')
      .optional(),
    profiles: z.record(z.string().regex(/^[A-Za-z0-9._-]{1,40}$/, 'bad profile name'), profileSchema).optional(),
  })
  .strict();

export type ProfileInput = z.infer<typeof profileSchema>;

/** A profile ready to use: regexes compiled, defaults filled. */
export interface Profile {
  name: string;
  command: string[];
  cwd: string | null;
  env: Record<string, string>;
  ready: RegExp | null;
  busy: RegExp | null;
  question: RegExp | null;
  interrupt: string[];
  submit: string[];
}

export interface Config {
  defaultProfile: string;
  ttlSeconds: number;
  retryLimit: number;
  intervalSeconds: number;
  socket: string;
  profiles: Record<string, Profile>;
  /** Where the config came from, for `mcc doctor`; null when built-in defaults only. */
  source: string | null;
}

export const DEFAULTS = { defaultProfile: 'demo', ttlSeconds: 30, retryLimit: 3, intervalSeconds: 1, socket: 'mcc' };

/** How to start this very program (node + its entry script), for the built-in demo profile. */
export interface SelfCommand {
  argv: string[];
}

/** The built-in profiles: `demo` (the bundled demo agent) and `shell`. */
export function builtinProfiles(self: SelfCommand, shell = '/bin/sh'): Record<string, ProfileInput> {
  return {
    demo: {
      command: [...self.argv, 'demo-agent'],
      ready: '^demo> ?$',
      busy: 'esc to interrupt',
      question: '^QUESTION:',
      interrupt: ['Escape'],
      submit: ['Enter'],
    },
    shell: {
      command: [shell, '-i'],
      ready: '[$#>] ?$',
      interrupt: ['C-c'],
      submit: ['Enter'],
    },
  };
}

function compileProfile(name: string, p: ProfileInput): Profile {
  const re = (s: string | undefined) => (s === undefined ? null : new RegExp(s, 'm'));
  return {
    name,
    command: p.command,
    cwd: p.cwd ?? null,
    env: p.env ?? {},
    ready: re(p.ready),
    busy: re(p.busy),
    question: re(p.question),
    interrupt: p.interrupt ?? ['Escape'],
    submit: p.submit ?? ['Enter'],
  };
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
  const inputs = { ...builtinProfiles(self), ...(c.profiles ?? {}) };
  const profiles: Record<string, Profile> = {};
  for (const [name, p] of Object.entries(inputs)) profiles[name] = compileProfile(name, p);
  const defaultProfile = c.defaultProfile ?? DEFAULTS.defaultProfile;
  if (!profiles[defaultProfile]) {
    return fail('invalid', `config ${source}: defaultProfile: no profile named "${defaultProfile}"`);
  }
  return ok({
    defaultProfile,
    ttlSeconds: c.ttlSeconds ?? DEFAULTS.ttlSeconds,
    retryLimit: c.retryLimit ?? DEFAULTS.retryLimit,
    intervalSeconds: c.intervalSeconds ?? DEFAULTS.intervalSeconds,
    socket: c.socket ?? DEFAULTS.socket,
    profiles,
    source,
  });
}
