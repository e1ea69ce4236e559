/**
 * Faults for a ledger object's delivery, set from the test on the live object (runInDurableObject):
 * D1 refusing its batches, the queue refusing sends. Nothing in the object knows about tests.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";

type Faulty = { env: Env };

/** Every D1 batch and queue send of this object fails until restored; returns the restore. */
export async function breakDelivery(stub: DurableObjectStub, what: { d1?: boolean; queue?: boolean } = { d1: true }): Promise<() => Promise<void>> {
  let original: Env | undefined;
  await runInDurableObject(stub, (instance: unknown) => {
    const o = instance as Faulty;
    original = o.env;
    o.env = {
      ...o.env,
      ...(what.d1 ? { DB: { ...o.env.DB, prepare: o.env.DB.prepare.bind(o.env.DB), batch: async () => Promise.reject(new Error("D1 unavailable (test)")) } } : {}),
      ...(what.queue ? { ANALYSIS_QUEUE: { send: async () => Promise.reject(new Error("queue unavailable (test)")), sendBatch: async () => Promise.reject(new Error("queue unavailable (test)")) } } : {}),
    } as Env;
  });
  return async () => {
    await runInDurableObject(stub, (instance: unknown) => {
      if (original) (instance as Faulty).env = original;
    });
  };
}

/** The object's alarm time (null: none set). */
export async function alarmOf(stub: DurableObjectStub): Promise<number | null> {
  return runInDurableObject(stub, (_i: unknown, state: DurableObjectState) => state.storage.getAlarm());
}

/** Records what this object sends to the dispatch queue (and still sends it); returns the record. */
export async function recordQueueSends(stub: DurableObjectStub): Promise<{ bodies: unknown[] }> {
  const record = { bodies: [] as unknown[] };
  await runInDurableObject(stub, (instance: unknown) => {
    const o = instance as Faulty;
    const queue = o.env.ANALYSIS_QUEUE;
    o.env = {
      ...o.env,
      ANALYSIS_QUEUE: {
        send: (body: unknown, opts?: QueueSendOptions) => (record.bodies.push(body), queue.send(body, opts)),
        sendBatch: (msgs: Iterable<MessageSendRequest>, opts?: QueueSendBatchOptions) => {
          const list = [...msgs];
          record.bodies.push(...list.map((m) => m.body));
          return queue.sendBatch(list, opts);
        },
      },
    } as Env;
  });
  return record;
}

/** Sets the live object's clock (null: the real one), to drive rollover and hold expiry. */
export async function setLedgerClock(stub: DurableObjectStub, ms: number | null): Promise<void> {
  await runInDurableObject(stub, (instance: unknown) => {
    (instance as { clock: { now(): number } }).clock = ms === null ? Date : { now: () => ms };
  });
}

/**
 * Runs the object's alarm now. The object also sets alarms for right after each commit, and one of
 * those may be running on its own at this moment (no alarm is then scheduled until it ends): wait
 * for the next one rather than report "no alarm".
 */
export async function runAlarm(stub: DurableObjectStub): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await runDurableObjectAlarm(stub)) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error("the ledger object never scheduled an alarm");
}
