import type { Result } from './result.js';

/** tmux key names we agree to send (they come from config); text is never sent as keys. */
export const TMUX_KEY_NAME_RE =
  /^(?:[CMS]-)*(?:[A-Za-z0-9]|Enter|Escape|Tab|BSpace|Space|Up|Down|Left|Right|Home|End|PageUp|PageDown|F[0-9]{1,2}|DC|IC|BTab)$/;

/** An environment variable name we agree to pass to a spawned agent. */
export const ENV_NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** One pane as seen by a single `list-panes -a` observation. */
export interface PaneInfo {
  session: string;
  windowIndex: number;
  paneIndex: number;
  paneId: string;
  panePid: number;
  paneDead: boolean;
  /** Exit status of a dead pane's process (remain-on-exit), null while alive or unknown. */
  paneDeadStatus: number | null;
  /** Signal that killed a dead pane's process, null otherwise or unknown. */
  paneDeadSignal?: number | null;
  currentCommand: string;
  /** Session creation time, epoch ms. */
  sessionCreated: number;
  /** Last output in the window, epoch ms (tmux has one-second resolution). */
  windowActivity: number;
  /** The `@mcc_store` session option: the id of the store that spawned it ('' when made by hand). */
  storeTag: string;
}

/**
 * What one observation of the tmux server found. `unknown` is distinct from zero sessions: any failure
 * other than "no server running" / a missing socket means we cannot see, and nothing destructive may follow.
 */
export type TmuxObservation =
  { kind: 'ok'; at: number; panes: PaneInfo[] } | { kind: 'unknown'; at: number; reason: string };

export interface SpawnSpec {
  session: string;
  /** argv, executed directly by tmux (never through a shell string). */
  argv: string[];
  cwd?: string;
  env?: Record<string, string>;
  /** Set as the session option `@mcc_store` in the same tmux command, so no observation sees it untagged. */
  storeTag?: string;
}

export interface SpawnedPane {
  paneId: string;
  panePid: number;
}

/** The tmux server on our private socket. Errors are typed results: `conflict` for a duplicate session. */
export interface TmuxPort {
  readonly socket: string;
  observe(): Promise<TmuxObservation>;
  newSession(spec: SpawnSpec): Promise<Result<SpawnedPane>>;
  /** Kill a session by exact name; `not_found` when it is already gone. */
  killSession(session: string): Promise<Result<void>>;
  /** Last `lines` lines of a pane, joined (`capture-pane -p -J`), trailing blank lines removed; raw text. */
  capture(paneId: string, lines: number): Promise<Result<string[]>>;
  /** Load text into a named buffer from stdin (never as an argument). */
  loadBuffer(name: string, text: string): Promise<Result<void>>;
  /** Paste a named buffer into a pane as a bracketed paste, deleting the buffer. */
  pasteBuffer(name: string, paneId: string): Promise<Result<void>>;
  /** Whether a named buffer exists; `probe_unknown` when the server cannot be asked. */
  hasBuffer(name: string): Promise<Result<boolean>>;
  deleteBuffer(name: string): Promise<Result<void>>;
  /** Send tmux key names (e.g. `Enter`, `Escape`, `C-c`) to a pane; never text. */
  sendKeys(paneId: string, keys: string[]): Promise<Result<void>>;
  /** argv that attaches the calling terminal to a session on our socket. */
  attachArgv(session: string): string[];
  /**
   * Call `listener` when tmux pushes word that something may have changed (a session or window came or went,
   * a pane died): a hint to observe sooner, never an observation, and no promise that every change is told.
   * Returns the unsubscribe. Absent where nothing is pushed.
   */
  onChange?(listener: () => void): () => void;
}
