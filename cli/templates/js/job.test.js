import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plan, run } from './job.js';

test('counts the primes below the bound', () => {
  const tasks = plan('{"tasks": 2, "below": 100}');
  assert.equal(tasks.length, 2);
  assert.deepEqual(JSON.parse(run(tasks[0])), { primes: 25 });
  assert.throws(() => plan('{"tasks": 0}'));
});
