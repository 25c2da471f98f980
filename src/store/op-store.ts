import type { Command } from '../core/commands.js';
import type { Host } from '../core/hosts.js';
import type { Result } from '../core/result.js';
import type {
  ActiveRows,
  AdoptInput,
  BeginDeliveryInput,
  ClaimInput,
  Claimed,
  ClaimNextInput,
  CloseRuntimeInput,
  CommandFilter,
  EnqueueCommandInput,
  FinishCommandInput,
  FinishDeliveryInput,
  ForgetHostInput,
  ForgetHostOutcome,
  HeartbeatHostInput,
  Lease,
  ListPage,
  RecordSpawnInput,
  RecoverCommandInput,
  SetChecksInput,
  SetTicketStatusInput,
  StorePort,
  TicketDetail,
  TicketFilter,
  TicketOverview,
  TicketQuery,
  UpdateRuntimeInput,
  Workspace,
  CreateTicketInput,
  TakeOverLeaseInput,
} from '../core/store.port.js';
import type { EventInput, McEvent, Message, MessageKind, RuntimeSession, Ticket, TicketStatus } from '../core/types.js';
import * as cmd from './command-ops.js';
import * as hostOps from './host-ops.js';
import * as list from './list-queries.js';
import * as msg from './message-ops.js';
import { insertEvent } from './op-common.js';
import * as q from './queries.js';
import type { Op } from './sql-op.js';
import * as ops from './ticket-ops.js';

// The store port written once over sql-op operations: every method that is one operation in one transaction
// lives here; an adapter supplies only how an operation runs (its write and read transactions) and what its
// dialect does natively (the change token, streaming walks, closing).

export abstract class OpStore implements StorePort {
  abstract readonly location: string;
  abstract readonly storeId: string;

  /** Run the operation `op()` makes as one write transaction; a Refusal becomes its Failure. `op` may be called again on retry. */
  protected abstract write<T>(op: () => Op<T>): Promise<Result<T>>;
  /** `write`, throwing a StoreError on failure (for operations that cannot be refused). */
  protected abstract writeOrThrow<T>(op: () => Op<T>): Promise<T>;
  /** Run the read operation `op()` makes inside one consistent snapshot. */
  protected abstract read<T>(op: () => Op<T>): Promise<T>;

  abstract eachOverview(query: TicketQuery, visit: (row: TicketOverview) => void): Promise<number>;
  abstract ticketVersions(): Promise<Map<string, number>>;
  abstract changeToken(): Promise<number>;
  abstract close(): void;

  async heartbeatHost(input: HeartbeatHostInput): Promise<Result<Host>> {
    return this.write(() => hostOps.heartbeatHost(input));
  }

  async listHosts(): Promise<Host[]> {
    return this.read(() => hostOps.listHosts());
  }

  async forgetHost(input: ForgetHostInput): Promise<Result<ForgetHostOutcome>> {
    return this.write(() => hostOps.forgetHost(input));
  }

  async hostLostRuntimes(input: { host: string; limit: number }): Promise<RuntimeSession[]> {
    return this.read(() => hostOps.hostLostRuntimes(input));
  }

  async createTicket(input: CreateTicketInput): Promise<Ticket> {
    return this.writeOrThrow(() => ops.createTicket(input));
  }

  async getTicket(key: string): Promise<Ticket | null> {
    return this.read(() => q.getTicket(key));
  }

  async listTickets(filter?: TicketFilter): Promise<Ticket[]> {
    return this.read(() => q.listTickets(filter));
  }

  async ticketDetail(key: string, opts?: { eventLimit?: number }): Promise<TicketDetail | null> {
    return this.read(() => q.ticketDetail(key, opts));
  }

  async overview(): Promise<TicketOverview[]> {
    return this.read(() => q.overview());
  }

  async listPage(query: TicketQuery & { limit: number }): Promise<ListPage> {
    return this.read(() => list.listPage(query));
  }

  async countByState(): Promise<Record<TicketStatus, number>> {
    return this.read(() => list.countByState());
  }

  async getTickets(keys: readonly string[]): Promise<Ticket[]> {
    return this.read(() => q.getTickets(keys));
  }

  async loadActive(extraKeys: readonly string[]): Promise<ActiveRows> {
    return this.read(() => q.loadActive(extraKeys));
  }

  async claim(input: ClaimInput): Promise<Result<{ ticket: Ticket; runtime: RuntimeSession; prompt: Message }>> {
    return this.write(() => ops.claim(input));
  }

  async claimNextTodo(input: ClaimNextInput): Promise<Result<Claimed | null>> {
    return this.write(() => ops.claimNextTodo(input));
  }

  async recordSpawn(input: RecordSpawnInput): Promise<Result<{ ticket: Ticket; runtime: RuntimeSession }>> {
    return this.write(() => ops.recordSpawn(input));
  }

  async adopt(input: AdoptInput): Promise<Result<{ ticket: Ticket; runtime: RuntimeSession }>> {
    return this.write(() => ops.adopt(input));
  }

  async closeRuntime(input: CloseRuntimeInput): Promise<Result<{ runtime: RuntimeSession; ticket: Ticket | null }>> {
    return this.write(() => ops.closeRuntime(input));
  }

  async setTicketStatus(input: SetTicketStatusInput): Promise<Result<Ticket>> {
    return this.write(() => ops.setTicketStatus(input));
  }

  async setChecks(input: SetChecksInput): Promise<Result<Ticket>> {
    return this.write(() => ops.setChecks(input));
  }

  async updateRuntime(input: UpdateRuntimeInput): Promise<Result<RuntimeSession>> {
    return this.write(() => ops.updateRuntime(input));
  }

  async queueMessage(input: {
    key: string;
    body: string;
    kind: MessageKind;
    now: number;
    event: EventInput;
  }): Promise<Result<Message>> {
    return this.write(() => msg.queueMessage(input));
  }

  async beginDelivery(input: BeginDeliveryInput): Promise<Result<Message>> {
    return this.write(() => msg.beginDelivery(input));
  }

  async finishDelivery(input: FinishDeliveryInput): Promise<Result<Message>> {
    return this.write(() => msg.finishDelivery(input));
  }

  async revertDelivery(input: { messageId: number; now: number; event?: EventInput }): Promise<Result<Message>> {
    return this.write(() => msg.revertDelivery(input));
  }

  async cancelMessage(input: { messageId: number; now: number; event: EventInput }): Promise<Result<Message>> {
    return this.write(() => msg.cancelMessage(input));
  }

  async appendEvent(event: EventInput, now: number): Promise<McEvent> {
    return this.writeOrThrow(() => insertEvent(event, now));
  }

  async listEvents(filter: { ticketKey?: string; limit: number }): Promise<McEvent[]> {
    return this.read(() => q.listEvents(filter));
  }

  async acquireLease(input: { name: string; holder: string; ttlMs: number; now: number }): Promise<Result<Lease>> {
    return this.write(() => msg.acquireLease(input));
  }

  async takeOverLease(input: TakeOverLeaseInput): Promise<Result<Lease>> {
    return this.write(() => msg.takeOverLease(input));
  }

  async releaseLease(input: { name: string; holder: string }): Promise<void> {
    await this.writeOrThrow(() => msg.releaseLease(input));
  }

  async readLease(name: string): Promise<Lease | null> {
    return this.read(() => q.readLease(name));
  }

  async listWorkspaces(): Promise<Workspace[]> {
    return this.read(() => ops.listWorkspaces());
  }

  async markWorkspaceRemoved(input: { id: number; now: number; event: EventInput }): Promise<Result<Workspace>> {
    return this.write(() => ops.markWorkspaceRemoved(input));
  }

  async enqueueCommand(input: EnqueueCommandInput): Promise<Result<Command>> {
    return this.write(() => cmd.enqueueCommand(input));
  }

  async claimCommand(input: { host: string; claimer: string; now: number }): Promise<Result<Command | null>> {
    return this.write(() => cmd.claimCommand(input));
  }

  async finishCommand(input: FinishCommandInput): Promise<Result<Command>> {
    return this.write(() => cmd.finishCommand(input));
  }

  async recoverCommand(input: RecoverCommandInput): Promise<Result<Command>> {
    return this.write(() => cmd.recoverCommand(input));
  }

  async expireCommands(input: { now: number; actor: string }): Promise<Command[]> {
    return this.writeOrThrow(() => cmd.expireCommands(input));
  }

  async listCommands(filter: CommandFilter): Promise<Command[]> {
    return this.read(() => cmd.listCommands(filter));
  }

  async getCommand(id: number): Promise<Command | null> {
    return this.read(() => cmd.getCommand(id));
  }
}
