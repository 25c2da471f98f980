// The hosts table on either adapter: heartbeats (insert, renew, fencing), forgetHost as one transaction
// (runtimes closed host_lost, tickets back to todo, messages back in the queue), and the legacy hostname.
import { describe, expect, it } from 'vitest';
import type { HeartbeatHostInput } from '../../src/core/store.port.js';
import {
  ev,
  failed,
  latestSchemaVersion,
  newTicket,
  okValue,
  schema,
  testStore,
  T0,
  type TestStore,
} from './helpers.js';

const beat = (over: Partial<HeartbeatHostInput> = {}): HeartbeatHostInput => ({
  id: 'host-b',
  bootId: 'boot-b',
  version: '0.1.0',
  tmuxSocket: 'mcc',
  epoch: 1,
  now: T0,
  ...over,
});

/** A ticket claimed by a runtime of `host`, spawned (pid recorded), with an operator message delivering. */
async function runningOn(store: TestStore, host: string, title: string) {
  const t = await newTicket(store, title);
  const c = okValue(
    await store.claim({
      key: t.key,
      ticketVersion: t.version,
      runtime: { host, tmuxSocket: 'mcc', tmuxSession: `mc-${t.key}` },
      promptBody: 'prompt',
      now: T0 + 1,
      event: ev('claim'),
    }),
  );
  const s = okValue(
    await store.recordSpawn({
      runtimeId: c.runtime.id,
      runtimeVersion: c.runtime.version,
      ticketKey: t.key,
      ticketVersion: c.ticket.version,
      paneId: '%1',
      identity: { pid: 4242, start: 1, bootId: 'boot-b' },
      now: T0 + 2,
      event: ev('spawn'),
    }),
  );
  const m = okValue(
    await store.queueMessage({ key: t.key, body: 'hello', kind: 'operator', now: T0 + 3, event: ev('queue') }),
  );
  okValue(await store.beginDelivery({ messageId: m.id, runtimeId: c.runtime.id, token: 'tok', now: T0 + 4 }));
  return { key: t.key, runtime: s.runtime, promptId: c.prompt.id, messageId: m.id };
}

describe('hosts table', () => {
  it('the migrations create the hosts table with the documented columns', async () => {
    const store = await testStore();
    expect((await schema.columns(store, 'hosts')).sort()).toEqual(
      [
        'id',
        'boot_id',
        'mcc_version',
        'tmux_socket',
        'heartbeat_at',
        'labels',
        'ssh_target',
        'epoch',
        'forgotten_at',
        'created_at',
        'updated_at',
      ].sort(),
    );
    expect(await schema.version(store)).toBe(latestSchemaVersion());
  });

  it('a heartbeat inserts, then renews (labels and ssh target kept unless given)', async () => {
    const store = await testStore();
    const first = okValue(await store.heartbeatHost(beat({ labels: ['gpu'], sshTarget: 'me@b' })));
    expect(first).toMatchObject({ id: 'host-b', epoch: 1, labels: ['gpu'], sshTarget: 'me@b', heartbeatAt: T0 });
    const again = okValue(await store.heartbeatHost(beat({ now: T0 + 5000, version: '0.2.0' })));
    expect(again).toMatchObject({ labels: ['gpu'], sshTarget: 'me@b', heartbeatAt: T0 + 5000, version: '0.2.0' });
    expect(again.createdAt).toBe(T0);
    expect(await store.listHosts()).toEqual([again]);
  });

  it('forgetHost is one transaction: epoch+1, runtimes closed host_lost, tickets todo, messages requeued, events', async () => {
    const store = await testStore();
    okValue(await store.heartbeatHost(beat()));
    const a = await runningOn(store, 'host-b', 'on b');
    const other = await runningOn(store, 'host-a', 'on a');
    const before = (await store.listEvents({ limit: 1000 })).length;
    const out = okValue(
      await store.forgetHost({
        id: 'host-b',
        now: T0 + 10_000,
        actor: 'operator:test',
        event: ev('host.forget', { summary: 'forgot host-b' }),
      }),
    );
    expect(out.host).toMatchObject({ epoch: 2, forgottenAt: T0 + 10_000 });
    expect(out.closed).toHaveLength(1);
    expect(out.closed[0]!.runtime).toMatchObject({ id: a.runtime.id, status: 'closed', closedReason: 'host_lost' });
    expect(out.closed[0]!.ticket).toMatchObject({ key: a.key, status: 'todo', workerPid: null });
    const detail = (await store.ticketDetail(a.key))!;
    // The prompt that was pending and the message cut mid-delivery both wait for the next runtime.
    expect(detail.messages.map((m) => [m.id, m.status, m.runtimeId, m.deliveryToken])).toEqual([
      [a.promptId, 'pending', null, null],
      [a.messageId, 'pending', null, null],
    ]);
    const events = await store.listEvents({ limit: 1000 });
    expect(events.length - before).toBe(2);
    expect(events.map((e) => e.kind)).toEqual(expect.arrayContaining(['runtime.host_lost', 'host.forget']));
    // The other host's runtime is untouched.
    expect((await store.ticketDetail(other.key))!.ticket.status).toBe('in_progress');
    expect(await store.hostLostRuntimes({ host: 'host-b', limit: 10 })).toEqual([
      expect.objectContaining({ id: a.runtime.id }),
    ]);
  });

  it('the agent of a runtime closed host_lost is never adopted again (a pass paused across the forget), another is', async () => {
    const store = await testStore();
    okValue(await store.heartbeatHost(beat()));
    const a = await runningOn(store, 'host-b', 'on b');
    okValue(await store.forgetHost({ id: 'host-b', now: T0 + 10_000, actor: 'op', event: ev('host.forget') }));
    const t = (await store.getTicket(a.key))!;
    const adopt = (pid: number) =>
      store.adopt({
        key: a.key,
        ticketVersion: t.version,
        runtimeId: null,
        runtimeVersion: null,
        target: { host: 'host-b', tmuxSocket: 'mcc', tmuxSession: `mc-${a.key}` },
        paneId: '%1',
        identity: { pid, start: 1, bootId: 'boot-b' },
        status: 'running',
        now: T0 + 11_000,
        event: ev('adopt'),
      });
    expect(failed(await adopt(4242), 'conflict')).toMatch(/closed host_lost when host host-b was forgotten/);
    expect((await store.ticketDetail(a.key))!.runtimes).toHaveLength(1);
    // A different process (a new agent in a re-created session) is adoptable as ever.
    expect((await adopt(5151)).ok).toBe(true);
  });

  it('a heartbeat with the epoch from before the forget is refused (fenced) and changes nothing', async () => {
    const store = await testStore();
    okValue(await store.heartbeatHost(beat()));
    okValue(await store.forgetHost({ id: 'host-b', now: T0 + 1, actor: 'op', event: ev('host.forget') }));
    const msg = failed(await store.heartbeatHost(beat({ now: T0 + 2 })), 'conflict');
    expect(msg).toMatch(/^fenced: host host-b was forgotten \(epoch 2/);
    expect((await store.listHosts())[0]).toMatchObject({ heartbeatAt: T0, forgottenAt: T0 + 1, epoch: 2 });
    // With the new epoch it registers again: remembered, not forgotten.
    const back = okValue(await store.heartbeatHost(beat({ epoch: 2, now: T0 + 3 })));
    expect(back).toMatchObject({ epoch: 2, forgottenAt: null, heartbeatAt: T0 + 3 });
    failed(await store.heartbeatHost(beat({ epoch: 3 })), 'invalid');
  });

  it('forgetting an unknown host names the known ones and writes nothing', async () => {
    const store = await testStore();
    okValue(await store.heartbeatHost(beat({ id: 'alpha' })));
    okValue(await store.heartbeatHost(beat({ id: 'beta' })));
    const before = (await store.listEvents({ limit: 100 })).length;
    expect(failed(await store.forgetHost({ id: 'gamma', now: T0, actor: 'op', event: ev() }), 'not_found')).toBe(
      'no host gamma; known hosts: alpha, beta',
    );
    expect((await store.listEvents({ limit: 100 })).length).toBe(before);
  });

  it('a first registration adopts the open rows under the legacy hostname, and only those', async () => {
    const store = await testStore();
    const legacy = await runningOn(store, 'devbox', 'old row');
    const foreign = await runningOn(store, 'elsewhere', 'not ours');
    okValue(await store.heartbeatHost(beat({ id: 'devbox-3f2a9c1b', adoptLegacyHost: 'devbox' })));
    const rt = (key: string) => store.ticketDetail(key).then((d) => d!.runtimes[0]!);
    expect(await rt(legacy.key)).toMatchObject({ host: 'devbox-3f2a9c1b', version: legacy.runtime.version + 1 });
    expect((await rt(foreign.key)).host).toBe('elsewhere');
  });
});
