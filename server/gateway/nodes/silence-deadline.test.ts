import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SilenceDeadline } from './silence-deadline.ts';

test('a node last heard more than offlineAfterMs ago is offline at a heartbeat on time', () => {
  const silence = new SilenceDeadline(500, 2000, 0);
  for (let at = 500; at < 2000; at += 500) assert.equal(silence.beat(at), -Infinity, `no judgement ${at} ms after start`);
  assert.equal(silence.beat(2000), 0);
  assert.equal(silence.beat(2600), 600, 'a heartbeat a little late is no stall');
});

test('the time the gateway stalled is not silence: a node is judged on offlineAfterMs of its attention', () => {
  const silence = new SilenceDeadline(500, 2000, 0);
  for (let at = 500; at <= 3000; at += 500) silence.beat(at);
  // Listening until 3500 (the heartbeat due then), deaf until 6000.
  assert.equal(silence.beat(6000), 1500, 'the heartbeat that ends a 3 s stall judges only a node silent for 2 s before it');
  assert.equal(silence.beat(7000), 2500);
  assert.equal(silence.beat(8000), 6000, 'judged on time again offlineAfterMs after the stall');
});

test('a gateway that keeps stalling still judges a node that is gone: each late heartbeat is one heartbeat of attention', () => {
  const silence = new SilenceDeadline(500, 2000, 0);
  for (let at = 500; at <= 3000; at += 500) silence.beat(at);
  let deadline = -Infinity;
  // Every gap 1.5 s: each a stall, two thirds of it deaf.
  for (let at = 4500; at <= 30_000; at += 1500) deadline = silence.beat(at);
  assert.ok(deadline > 3000, `a node last heard at 3000 is offline by 30 s (deadline ${deadline})`);
  const late = new SilenceDeadline(500, 2000, 0);
  const beats = Array.from({ length: 4 }, (_, i) => late.beat(1500 * (i + 1)));
  assert.equal(beats.at(-2), -Infinity, 'not before four heartbeats of attention');
  assert.ok(beats.at(-1)! > -Infinity);
});

test('a stall is a gap of half offlineAfterMs, or two heartbeats when those are longer', () => {
  const short = new SilenceDeadline(100, 2000, 0);
  short.beat(3000);
  assert.equal(short.beat(4000), -Infinity, 'a 1 s gap is a stall with --offline-after-ms 2000');
  const long = new SilenceDeadline(1000, 2000, 0);
  long.beat(2000);
  assert.equal(long.beat(3000), 1000, 'one heartbeat later is on time, however long the heartbeat');
});
