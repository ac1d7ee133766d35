import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runChaos } from './chaos-run.ts';

test('short chaos run: nodes and the gateway killed, chunks corrupted, no acknowledged file lost', async () => {
  const lines: string[] = [];
  const result = await runChaos({ durationMs: 40_000, seed: 7, log: (line) => lines.push(line) });
  assert.equal(result.filesLost, 0, lines.join('\n'));
  assert.ok(result.filesAcked >= 10, `only ${result.filesAcked} files acknowledged`);
  assert.ok(result.nodeKills >= 2, `${result.nodeKills} node kills`);
  assert.equal(result.gatewayKills, 1);
  assert.ok(result.corruptionsInjected >= 2, `${result.corruptionsInjected} corruptions`);
  assert.ok(result.repairsDone > 0, 'nothing was repaired');
  assert.ok(result.bytesVerified > 0);
});
