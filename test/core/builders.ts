// Builders for the pure core: tickets, runtime rows, panes, process observations and whole snapshots. Every
// builder takes overrides, so a table row states only what differs from a healthy default.
import { parseConfig, type Config, type Profile } from '../../src/core/config.js';
import type { Finding, Policy, Snapshot } from '../../src/core/findings.js';
import { hostReachability, type Host, type HostView } from '../../src/core/hosts.js';
import type { Where } from '../../src/core/liveness.js';
import type { ProcessObservation } from '../../src/core/process.port.js';
import type { PaneInfo, TmuxObservation } from '../../src/core/tmux.port.js';
import {
  sessionName,
  type Message,
  type ProcessIdentity,
  type RuntimeSession,
  type Ticket,
} from '../../src/core/types.js';

export const T0 = Date.parse('2026-11-25T01:30:00.000Z');
export const TTL = 30_000;
export const RETRY_LIMIT = 3;
export const NOW = T0 + 10 * TTL;
export const HOST = 'h1';
export const SOCKET = 'mcc';
export const STORE_ID = 'store-ours';
export const BOOT = 'boot-1';
export const WHERE: Where = { host: HOST, socket: SOCKET, storeId: STORE_ID, bootId: BOOT };
export const POLICY: Policy = { ttlMs: TTL, retryLimit: RETRY_LIMIT };

/** The real config with its built-in profiles (demo, shell); only `self` is made up. */
export function testConfig(json: object | null = null): Config {
  const res = parseConfig(json === null ? null : JSON.stringify(json), json === null ? null : 'test.json', {
    argv: ['node', 'mcc.js'],
  });
  if (!res.ok) throw new Error(res.message);
  return res.value;
}

export const CONFIG = testConfig();
export const DEMO: Profile = CONFIG.profiles['demo']!;

export function ticket(over: Partial<Ticket> = {}): Ticket {
  return {
    key: 'MC-1',
    title: 'fix the thing',
    body: 'do it well',
    status: 'in_progress',
    profile: 'demo',
    workerPid: 100,
    attempts: 1,
    humanInputRequired: false,
    blockedReason: null,
    checkInSeconds: null,
    checkInAt: null,
    reviewChecks: null,
    reviewChecksAt: null,
    version: 7,
    createdAt: T0,
    updatedAt: NOW - 1000,
    ...over,
  };
}

/** A recorded, running runtime row of MC-1 (pid 100, pane %1) unless overridden. */
export function runtime(over: Partial<RuntimeSession> = {}): RuntimeSession {
  const key = over.ticketKey ?? 'MC-1';
  return {
    id: 11,
    ticketKey: key,
    host: HOST,
    tmuxSocket: SOCKET,
    tmuxSession: sessionName(key),
    paneId: '%1',
    pid: 100,
    pidStart: 5000,
    bootId: BOOT,
    status: 'idle',
    exitStatus: null,
    createdAt: NOW - 5 * TTL,
    lastSeenAt: NOW,
    deadSince: null,
    closedAt: null,
    closedReason: null,
    submittedScreen: null,
    submittedAt: null,
    lastMarker: null,
    workdir: null,
    branch: null,
    version: 3,
    ...over,
  };
}

/** A `spawning` row: claimed, pid not recorded yet. */
export function spawningRow(over: Partial<RuntimeSession> = {}): RuntimeSession {
  return runtime({
    status: 'spawning',
    paneId: null,
    pid: null,
    pidStart: null,
    bootId: null,
    lastSeenAt: null,
    ...over,
  });
}

export function pane(over: Partial<PaneInfo> = {}): PaneInfo {
  return {
    session: 'mc-MC-1',
    windowIndex: 0,
    paneIndex: 0,
    paneId: '%1',
    panePid: 100,
    paneDead: false,
    paneDeadStatus: null,
    currentCommand: 'node',
    sessionCreated: NOW - 5 * TTL,
    windowActivity: NOW - 1000,
    storeTag: STORE_ID,
    ...over,
  };
}

export function identity(pid = 100, start = 5000, bootId = BOOT): ProcessIdentity {
  return { pid, start, bootId };
}

export const obs = {
  alive: (pid = 100, start = 5000, bootId = BOOT, comm = 'node'): ProcessObservation => ({
    kind: 'alive',
    identity: identity(pid, start, bootId),
    state: 'S',
    comm,
  }),
  absent: (): ProcessObservation => ({ kind: 'dead', reason: 'absent' }),
  zombie: (): ProcessObservation => ({ kind: 'dead', reason: 'zombie' }),
  unknown: (reason = 'permission denied'): ProcessObservation => ({ kind: 'unknown', reason }),
};

export function message(over: Partial<Message> = {}): Message {
  return {
    id: 21,
    ticketKey: 'MC-1',
    runtimeId: 11,
    kind: 'prompt',
    body: 'MC-1: fix the thing\n\ndo it well',
    status: 'pending',
    attempts: 0,
    deliveryToken: null,
    createdAt: NOW - TTL,
    sentAt: null,
    ...over,
  };
}

export const SCREEN = {
  booting: ['demo-agent pid 100', '⠋ booting… (esc to interrupt)'],
  idle: ['demo-agent pid 100', 'demo> '],
  working: ['demo-agent pid 100', '│ MC-1: fix the thing', '⠋ working on prompt 1… (esc to interrupt)'],
  review: [
    'demo-agent pid 100',
    '│ MC-1: fix the thing',
    'REVIEW: demo work for prompt 1 is ready for review',
    'demo> ',
  ],
  done: ['demo-agent pid 100', '│ MC-1: fix the thing', 'DONE: demo work for prompt 1 complete', 'demo> '],
  question: [
    'demo-agent pid 100',
    '│ MC-1: fix the thing',
    'QUESTION: demo needs a human decision for prompt 1',
    'demo> ',
  ],
};

export interface SnapInput {
  at?: number;
  where?: Where;
  policy?: Policy;
  tickets?: Ticket[];
  runtimes?: RuntimeSession[];
  messages?: Message[];
  /** Panes of an `ok` observation; ignored when `tmux` is given. */
  panes?: PaneInfo[];
  tmux?: TmuxObservation;
  processes?: Array<[number, ProcessObservation]>;
  captures?: Array<[string, readonly string[]]>;
  /** When each pane's screen last changed (epoch ms); absent = not known. */
  screenChangedAt?: Array<[string, number]>;
  buffers?: string[] | null;
  /** Profiles other than the built-in ones (the default: CONFIG's). */
  profiles?: Snapshot['profiles'];
  /** The hosts sharing the store (absent: not read). */
  hosts?: HostView[];
}

export function snapshot(i: SnapInput = {}): Snapshot {
  const at = i.at ?? NOW;
  return {
    at,
    where: i.where ?? WHERE,
    policy: i.policy ?? POLICY,
    rows: { tickets: i.tickets ?? [], runtimes: i.runtimes ?? [], messages: i.messages ?? [] },
    tmux: i.tmux ?? { kind: 'ok', at, panes: i.panes ?? [] },
    processes: new Map(i.processes ?? []),
    captures: new Map(i.captures ?? []),
    ...(i.screenChangedAt ? { screenChangedAt: new Map(i.screenChangedAt) } : {}),
    buffers: i.buffers === null ? null : new Set(i.buffers ?? []),
    ...(i.hosts ? { hosts: i.hosts } : {}),
    profiles: i.profiles ?? CONFIG.profiles,
    defaultProfile: CONFIG.defaultProfile,
  };
}

/** A hosts row: beat at NOW unless told. */
export function hostRow(over: Partial<Host> = {}): Host {
  return {
    id: 'host-b',
    bootId: 'boot-b',
    version: '0.1.0',
    tmuxSocket: SOCKET,
    heartbeatAt: NOW,
    labels: [],
    sshTarget: null,
    epoch: 1,
    forgottenAt: null,
    createdAt: NOW - 3_600_000,
    updatedAt: NOW,
    ...over,
  };
}

/** A host as a snapshot carries it, judged at NOW with a 30 s host TTL. */
export function hostView(over: Partial<Host> = {}, openRuntimes = 1): HostView {
  const host = hostRow(over);
  return { host, reach: hostReachability(host, NOW, 30), openRuntimes };
}

/** Findings that are drift (a badge), not routine work. */
export function drifts(fs: readonly Finding[]): Finding[] {
  return fs.filter((f) => f.drift !== null);
}

export function actionTypes(fs: readonly Finding[]): string[] {
  return fs.map((f) => f.action.type);
}
