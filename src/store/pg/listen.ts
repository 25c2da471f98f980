import pg from 'pg';
import { scrubPassword, type PgLocation } from './connect.js';

// One LISTEN connection per process: PostgreSQL delivers a NOTIFY at commit, so a listener learns of another
// process's change without polling. It is only ever a hint: while it is disconnected, `connected` is false and
// its users fall back to assuming everything changed (the change token moves on every read), and it reconnects
// with backoff on its own.

export type NotifyHandler = (payload: string) => void;

const RECONNECT_MIN_MS = 100;
const RECONNECT_MAX_MS = 5000;

export class PgListener {
  private client: pg.Client | null = null;
  private readonly handlers = new Map<string, Set<NotifyHandler>>();
  private connecting: Promise<void> | null = null;
  private closed = false;
  private failures = 0;
  private retryTimer: NodeJS.Timeout | null = null;
  /** True while LISTEN is in force on every channel asked for: notifications are being received. */
  connected = false;
  /** Called whenever the connection is lost or (re)established: users treat that as "anything may have changed". */
  onReset: () => void = () => undefined;
  /** Called each time LISTEN is in force again after a loss: what was notified meanwhile was missed. */
  private readonly reconnected = new Set<() => void>();
  private everConnected = false;

  constructor(
    private readonly loc: PgLocation,
    private readonly log: (message: string) => void = () => undefined,
  ) {}

  /** Call `fn` on every notification on `channel` (channel names are mcc's own constants, never input). */
  on(channel: string, fn: NotifyHandler): () => void {
    if (!/^[a-z_]+$/.test(channel)) throw new Error(`PgListener: bad channel name ${channel}`);
    let set = this.handlers.get(channel);
    if (set === undefined) {
      set = new Set();
      this.handlers.set(channel, set);
      if (this.client !== null && this.connected) void this.client.query(`LISTEN ${channel}`).catch(() => undefined);
    }
    set.add(fn);
    this.start();
    return () => set.delete(fn);
  }

  /** Call `fn` each time the listener is back after a loss (not on the first connect); returns a remover. */
  onReconnect(fn: () => void): () => void {
    this.reconnected.add(fn);
    return () => this.reconnected.delete(fn);
  }

  /** Connect (once) in the background; safe to call repeatedly. */
  start(): void {
    if (this.closed || this.client !== null || this.connecting !== null || this.retryTimer !== null) return;
    this.connecting = this.connect().finally(() => {
      this.connecting = null;
    });
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.loc.url, application_name: 'mcc-listen', keepAlive: true });
    client.on('error', (err) => this.lost(client, err));
    client.on('end', () => this.lost(client, new Error('connection ended')));
    client.on('notification', (n) => {
      for (const fn of this.handlers.get(n.channel) ?? []) fn(n.payload ?? '');
    });
    try {
      await client.connect();
      for (const channel of this.handlers.keys()) await client.query(`LISTEN ${channel}`);
    } catch (err) {
      this.lost(client, err);
      return;
    }
    if (this.closed) {
      void client.end().catch(() => undefined);
      return;
    }
    this.client = client;
    this.connected = true;
    this.failures = 0;
    this.onReset();
    if (this.everConnected) for (const fn of [...this.reconnected]) fn();
    this.everConnected = true;
  }

  private lost(client: pg.Client, err: unknown): void {
    if (this.client !== null && this.client !== client) return;
    const wasConnected = this.connected;
    this.client = null;
    this.connected = false;
    void client.end().catch(() => undefined);
    if (this.closed) return;
    if (wasConnected) {
      this.log(
        `store notifications lost: ${scrubPassword(err instanceof Error ? err.message : String(err), this.loc)}`,
      );
      this.onReset();
    }
    this.failures++;
    const delay = Math.min(RECONNECT_MAX_MS, RECONNECT_MIN_MS * 2 ** Math.min(this.failures, 6));
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.start();
    }, delay);
    this.retryTimer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    await this.connecting?.catch(() => undefined);
    const client = this.client;
    this.client = null;
    this.connected = false;
    if (client !== null) await client.end().catch(() => undefined);
  }
}
