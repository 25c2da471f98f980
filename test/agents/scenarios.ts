// What to do with each real agent offline and which screens to keep, with the state each must read as.
// "offline" = a fresh HOME and nothing else; "key" = a dummy API key and the settings that skip onboarding,
// so the agent reaches its input prompt (any request then fails: there is no network).
import type { ScreenStatus as ContractStatus } from '../../src/core/screen.js';
import { type AgentName, type IsolatedHome, seedFile } from './harness.js';

export type Until = (lines: string[]) => boolean;
export const has =
  (re: RegExp): Until =>
  (lines) =>
    lines.some((l) => re.test(l.trimEnd()));
export const lacks =
  (re: RegExp): Until =>
  (lines) =>
    !lines.some((l) => re.test(l.trimEnd()));
export const all =
  (...u: Until[]): Until =>
  (lines) =>
    u.every((f) => f(lines));

export interface Step {
  keys?: string[];
  type?: string;
  until: Until;
  /** 0 = capture as soon as `until` holds (a spinner never settles); default 1500. */
  settleMs?: number;
  timeoutMs?: number;
  /** Fixture name part; unrecorded steps only move the agent along. */
  record?: string;
  expect?: ContractStatus | null;
  /** The pane must have exited (remain-on-exit keeps it for the capture). */
  dead?: boolean;
}

export interface Scenario {
  agent: AgentName;
  variant: 'offline' | 'key';
  env?: Record<string, string>;
  seed?: (h: IsolatedHome) => void;
  steps: Step[];
}

const draftAndClear = (ready: RegExp, draft: RegExp): Step[] => [
  { type: 'hello draft', until: has(draft), record: 'draft', expect: null },
  { keys: ['C-u'], until: has(ready) },
];

export const SCENARIOS: Scenario[] = [
  {
    agent: 'claude',
    variant: 'offline',
    steps: [
      { until: has(/Unable to connect to Anthropic services/), record: 'offline-exit', expect: 'blocked', dead: true },
    ],
  },
  {
    agent: 'claude',
    variant: 'key',
    env: { ANTHROPIC_API_KEY: 'sk-ant-offline-dummy-key-0000' },
    seed: (h) => seedFile(h, '.claude.json', JSON.stringify({ hasCompletedOnboarding: true })),
    steps: [
      { until: has(/Yes, I trust this folder/), record: 'trust', expect: 'blocked' },
      { keys: ['Enter'], until: has(/Do you want to use this API key\?/), record: 'api-key', expect: 'blocked' },
      { keys: ['Enter'], until: has(/\? for shortcuts/), record: 'idle', expect: 'idle' },
      ...draftAndClear(/\? for shortcuts/, /^❯\s+hello draft/),
      { type: 'hi', until: has(/^❯\s+hi/) },
      { keys: ['Enter'], until: has(/Please run \/login/), record: 'not-logged-in', expect: 'idle' },
    ],
  },
  {
    agent: 'codex',
    variant: 'offline',
    steps: [{ until: has(/Sign in with ChatGPT/), record: 'signin', expect: 'blocked' }],
  },
  {
    agent: 'codex',
    variant: 'key',
    seed: (h) => seedFile(h, '.codex/auth.json', JSON.stringify({ OPENAI_API_KEY: 'sk-offline-dummy' })),
    steps: [
      { until: has(/\? for shortcuts/), record: 'idle', expect: 'idle' },
      ...draftAndClear(/\? for shortcuts/, /^› hello draft/),
      { type: 'hi', until: has(/^› hi/) },
      { keys: ['Enter'], until: has(/esc to interrupt/), settleMs: 0, record: 'busy', expect: 'running' },
      // Offline, Codex retries and then waits for the network for good: the turn never ends by itself.
      { until: has(/Reconnecting\.\.\./), settleMs: 0, record: 'reconnecting', expect: 'running' },
    ],
  },
  {
    agent: 'gemini',
    variant: 'offline',
    steps: [
      { until: has(/Do you trust the files in this folder\?/), record: 'trust', expect: 'blocked' },
      { keys: ['Enter'], until: has(/How would you like to authenticate/), record: 'auth', expect: 'blocked' },
    ],
  },
  {
    agent: 'gemini',
    variant: 'key',
    env: { GEMINI_API_KEY: 'offline-dummy-key' },
    seed: (h) =>
      seedFile(h, '.gemini/settings.json', JSON.stringify({ security: { auth: { selectedType: 'gemini-api-key' } } })),
    steps: [
      { until: has(/Do you trust the files in this folder\?/) },
      // Trusting restarts the CLI: wait for the new process to draw and sit still.
      { keys: ['Enter'], until: has(/Type your message or @path/), settleMs: 5000, record: 'idle', expect: 'idle' },
      ...draftAndClear(/Type your message or @path/, /^ > hello draft/),
      { type: 'hi', until: has(/^ > hi/) },
      // Offline, Gemini keeps "Thinking..." through its retries for minutes: the busy screen is the record.
      { keys: ['Enter'], until: has(/esc to cancel/), settleMs: 0, record: 'busy', expect: 'running' },
    ],
  },
  {
    agent: 'opencode',
    variant: 'offline',
    steps: [
      { until: has(/Ask anything…/), timeoutMs: 120_000, record: 'idle', expect: 'idle' },
      ...draftAndClear(/Ask anything…/, /┃ {2}hello draft/),
      { type: 'hi', until: has(/┃ {2}hi$/) },
      // Offline, Enter leaves the text in the box (no provider answers): still a draft, cannot tell.
      { keys: ['Enter'], until: has(/┃ {2}hi$/), settleMs: 0, record: 'submitted', expect: null },
    ],
  },
];

/** Scenarios to run: all, or those of the agents named in MCC_AGENTS (comma-separated). */
export function selectedScenarios(filter = process.env['MCC_AGENTS']): Scenario[] {
  const names = filter ? filter.split(',').map((n) => n.trim()) : null;
  return names ? SCENARIOS.filter((s) => names.includes(s.agent)) : SCENARIOS;
}

export const SIZES = [
  { cols: 80, rows: 24 },
  { cols: 120, rows: 40 },
];
