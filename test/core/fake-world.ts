// A simulated world behind the core's ports: a tmux server (sessions, panes, buffers, remain-on-exit), a process
// table (start times, zombies, pid reuse, boot id) and a clock the test advances. Faithful where the core relies
// on tmux's behaviour: duplicate session = conflict, paste -d consumes the buffer, window_activity has one-second
// resolution, a dead pane keeps its exit status, killing a dead pane signals nobody.
import { fail, ok, type Result } from '../../src/core/result.js';
import type { PaneInfo, SpawnedPane, SpawnSpec, TmuxObservation, TmuxPort } from '../../src/core/tmux.port.js';
import { FakeAgent, type Layout } from './fake-agent.js';
import { FakeClock, FakeProcesses } from './fake-processes.js';

export { FakeClock, FakeProcesses } from './fake-processes.js';

export interface FakePane {
  session: string;
  paneId: string;
  pid: number;
  dead: boolean;
  deadStatus: number | null;
  activity: number;
  agent: FakeAgent;
}

interface FakeSession {
  name: string;
  storeTag: string;
  created: number;
  pane: FakePane;
}

export interface KillRecord {
  session: string;
  /** The pane's agent was alive when the session was killed. */
  wasLive: boolean;
}

export class FakeTmux implements TmuxPort {
  readonly socket = 'mcc';
  readonly sessions = new Map<string, FakeSession>();
  readonly buffers = new Map<string, string>();
  /** Every pane ever created (killed ones too), so deliveries can be counted per runtime. */
  readonly panes = new Map<string, FakePane>();
  readonly spawnLog: string[] = [];
  readonly kills: KillRecord[] = [];
  /** Any tmux failure other than "no server": observe is `unknown`, every command fails. */
  failing = false;
  /** Agents spawned from now on skip the booting phase. */
  instantBoot = false;
  /** Agents spawned from now on leave their busy line in the scrollback above the prompt. */
  layout: Layout = 'clean';
  /** Agents spawned from now on show a sign-in dialog until the operator signs in. */
  signIn = false;
  /** Agents spawned from now on start a chore right after mcc first observes them ready. */
  stirs = false;
  private paneSeq = 0;

  constructor(
    private readonly clock: FakeClock,
    private readonly procs: FakeProcesses,
  ) {}

  private touch(p: FakePane): void {
    // tmux's window_activity is a time_t: one-second resolution.
    p.activity = Math.floor(this.clock.now() / 1000) * 1000;
  }

  paneById(paneId: string): FakePane | undefined {
    const p = this.panes.get(paneId);
    return p && this.sessions.get(p.session)?.pane === p ? p : undefined;
  }

  /** The agent process exited (kill -9 or a crash): remain-on-exit keeps the pane, dead, with its status. */
  processExited(pid: number, status: number): void {
    this.procs.exit(pid);
    for (const s of this.sessions.values()) {
      if (s.pane.pid === pid && !s.pane.dead) {
        s.pane.dead = true;
        s.pane.deadStatus = status;
        s.pane.agent.die();
        this.touch(s.pane);
      }
    }
  }

  private broken<T>(what: string): Result<T> {
    return fail('tmux_failed', `tmux ${what}: server not responding`);
  }

  async observe(): Promise<TmuxObservation> {
    const at = this.clock.now();
    if (this.failing) return { kind: 'unknown', at, reason: 'server not responding' };
    // tmux reaps its children on SIGCHLD before it answers: a pane whose first process is a zombie is dead.
    for (const s of this.sessions.values())
      if (!s.pane.dead && this.procs.isZombie(s.pane.pid)) this.processExited(s.pane.pid, 0);
    const panes: PaneInfo[] = [...this.sessions.values()].map((s) => ({
      session: s.name,
      windowIndex: 0,
      paneIndex: 0,
      paneId: s.pane.paneId,
      panePid: s.pane.pid,
      paneDead: s.pane.dead,
      paneDeadStatus: s.pane.dead ? s.pane.deadStatus : null,
      currentCommand: 'node',
      sessionCreated: s.created,
      windowActivity: s.pane.activity,
      storeTag: s.storeTag,
    }));
    return { kind: 'ok', at, panes };
  }

  async newSession(spec: SpawnSpec): Promise<Result<SpawnedPane>> {
    if (this.failing) return this.broken('new-session');
    if (this.sessions.has(spec.session)) return fail('conflict', `duplicate session: ${spec.session}`);
    const pid = this.procs.spawn('node');
    const paneId = `%${++this.paneSeq}`;
    const pane: FakePane = {
      session: spec.session,
      paneId,
      pid,
      dead: false,
      deadStatus: null,
      activity: 0,
      agent: null as unknown as FakeAgent,
    };
    pane.agent = new FakeAgent(pid, () => this.touch(pane), {
      instantBoot: this.instantBoot,
      layout: this.layout,
      signIn: this.signIn,
      stirs: this.stirs,
    });
    this.touch(pane);
    this.sessions.set(spec.session, {
      name: spec.session,
      storeTag: spec.storeTag ?? '',
      created: this.clock.now(),
      pane,
    });
    this.panes.set(paneId, pane);
    this.spawnLog.push(spec.session);
    return ok({ paneId, panePid: pid });
  }

  async killSession(session: string): Promise<Result<void>> {
    if (this.failing) return this.broken('kill-session');
    const s = this.sessions.get(session);
    if (!s) return fail('not_found', `can't find session: ${session}`);
    const wasLive = !s.pane.dead && this.procs.alive(s.pane.pid);
    // SIGHUP reaches the pane's process only while the pane is alive; a dead pane's pid may be someone else's now.
    if (!s.pane.dead) {
      this.procs.exit(s.pane.pid);
      s.pane.agent.die();
    }
    this.sessions.delete(session);
    this.kills.push({ session, wasLive });
    return ok(undefined);
  }

  /** The machine rebooted: the server and all its sessions and buffers are gone. */
  reboot(): void {
    for (const s of this.sessions.values()) s.pane.agent.die();
    this.sessions.clear();
    this.buffers.clear();
    this.procs.reboot();
  }

  /** Someone ran `tmux kill-session` by hand; a nohup'd agent may survive it, its pane gone. */
  handKill(session: string, agentSurvives: boolean): void {
    const s = this.sessions.get(session);
    if (!s) return;
    if (!s.pane.dead && !agentSurvives) {
      this.procs.exit(s.pane.pid);
      s.pane.agent.die();
    }
    this.sessions.delete(session);
  }

  /** Someone made a session of that name by hand (untagged), running an agent of their own. */
  handCreate(session: string): void {
    if (this.sessions.has(session)) return;
    const pid = this.procs.spawn('node');
    const paneId = `%${++this.paneSeq}`;
    const pane: FakePane = {
      session,
      paneId,
      pid,
      dead: false,
      deadStatus: null,
      activity: 0,
      agent: null as unknown as FakeAgent,
    };
    pane.agent = new FakeAgent(pid, () => this.touch(pane), {
      instantBoot: true,
      layout: 'clean',
      signIn: false,
      stirs: false,
    });
    this.touch(pane);
    this.sessions.set(session, { name: session, storeTag: '', created: this.clock.now(), pane });
    this.panes.set(paneId, pane);
  }

  async capture(paneId: string, lines: number): Promise<Result<string[]>> {
    if (this.failing) return this.broken('capture-pane');
    const p = this.paneById(paneId);
    if (!p) return fail('not_found', `can't find pane: ${paneId}`);
    return ok(p.agent.screen().slice(-lines));
  }

  async loadBuffer(name: string, text: string): Promise<Result<void>> {
    if (this.failing) return this.broken('load-buffer');
    this.buffers.set(name, text);
    return ok(undefined);
  }

  async pasteBuffer(name: string, paneId: string): Promise<Result<void>> {
    if (this.failing) return this.broken('paste-buffer');
    const text = this.buffers.get(name);
    if (text === undefined) return fail('not_found', `no buffer ${name}`);
    const p = this.paneById(paneId);
    if (!p) return fail('not_found', `can't find pane: ${paneId}`);
    this.buffers.delete(name);
    if (!p.dead) p.agent.paste(text);
    return ok(undefined);
  }

  async hasBuffer(name: string): Promise<Result<boolean>> {
    if (this.failing) return fail('probe_unknown', 'tmux list-buffers: server not responding');
    return ok(this.buffers.has(name));
  }

  async deleteBuffer(name: string): Promise<Result<void>> {
    if (this.failing) return this.broken('delete-buffer');
    this.buffers.delete(name);
    return ok(undefined);
  }

  async sendKeys(paneId: string, keys: string[]): Promise<Result<void>> {
    if (this.failing) return this.broken('send-keys');
    const p = this.paneById(paneId);
    if (!p) return fail('not_found', `can't find pane: ${paneId}`);
    if (!p.dead) p.agent.keys(keys);
    return ok(undefined);
  }

  attachArgv(session: string): string[] {
    return ['tmux', '-L', this.socket, 'attach-session', '-t', session];
  }
}

/** The whole simulated machine. */
export class FakeWorld {
  readonly clock: FakeClock;
  readonly procs = new FakeProcesses();
  readonly tmux: FakeTmux;

  constructor(start: number) {
    this.clock = new FakeClock(start);
    this.tmux = new FakeTmux(this.clock, this.procs);
  }

  /** mcc just took a snapshot: an agent armed to stir starts its chore now, before anything is decided on it. */
  afterObservation(): void {
    for (const s of this.tmux.sessions.values()) if (!s.pane.dead) s.pane.agent.observed();
  }

  session(key: string): FakePane | undefined {
    return this.tmux.sessions.get(`mc-${key}`)?.pane;
  }

  /** The ticket's session runs a live agent: pane up, pid running and not a zombie. */
  liveSession(key: string): FakePane | undefined {
    const p = this.session(key);
    return p && !p.dead && this.procs.alive(p.pid) ? p : undefined;
  }

  /** A live session our store spawned (tagged), as opposed to one made by hand. */
  ourLiveSession(key: string, storeId: string): FakePane | undefined {
    return this.tmux.sessions.get(`mc-${key}`)?.storeTag === storeId ? this.liveSession(key) : undefined;
  }

  /** Fingerprint of everything the system could destroy, to prove a pass destroyed nothing. */
  fingerprint(): string {
    const sessions = [...this.tmux.sessions.values()].map((s) => [
      s.name,
      s.pane.paneId,
      s.pane.pid,
      s.pane.dead,
      s.pane.agent.received.length,
    ]);
    return JSON.stringify({ sessions, procs: [...this.procs.table.entries()], buffers: [...this.tmux.buffers.keys()] });
  }
}
