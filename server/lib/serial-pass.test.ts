import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SerialPass } from './serial-pass.ts';

/** Work whose passes each wait for the test to end them. */
function gatedWork() {
  const gates: Array<() => void> = [];
  let started = 0;
  const work = () => {
    started++;
    return new Promise<void>((resolve) => gates.push(resolve));
  };
  const endPass = async () => {
    await new Promise((resolve) => setImmediate(resolve));
    gates.shift()!();
    await new Promise((resolve) => setImmediate(resolve));
  };
  return { work, endPass, started: () => started };
}

test('calls while a pass runs make one more pass after it, never two at once', async () => {
  const { work, endPass, started } = gatedWork();
  const pass = new SerialPass(work);
  const done = pass.run();
  for (let i = 0; i < 3; i++) void pass.run();
  assert.equal(started(), 1, 'no second pass while the first runs');
  await endPass();
  assert.equal(started(), 2, 'one more pass for the calls that came meanwhile');
  await endPass();
  await done;
  assert.equal(started(), 2);
  void pass.run();
  assert.equal(started(), 3, 'a call once all is over starts a pass at once');
  await endPass();
});

test('a pass that fails still runs the one asked for meanwhile', async () => {
  let calls = 0;
  let fail!: (err: Error) => void;
  const pass = new SerialPass(() => {
    calls++;
    return calls === 1 ? new Promise<void>((_, reject) => (fail = reject)) : Promise.resolve();
  });
  const done = pass.run();
  void pass.run();
  fail(new Error('too few nodes'));
  await done;
  assert.equal(calls, 2);
});
