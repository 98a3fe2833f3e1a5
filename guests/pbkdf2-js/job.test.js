import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pbkdf2Sync } from 'node:crypto';
import { plan, run } from './job.js';

test("keys are node's own PBKDF2", () => {
  for (const hash of ['sha256', 'sha512']) {
    for (const keyLength of [16, 64, 100]) {
      const passwords = ['a', 'long'.repeat(40)];
      const tasks = plan(JSON.stringify({ passwords, iterations: 3, hash, keyLength, salt: 's' }));
      tasks.forEach((task, i) => {
        const expected = pbkdf2Sync(passwords[i], 's', 3, keyLength, hash).toString('hex');
        assert.equal(JSON.parse(run(task)).key, expected);
      });
    }
  }
});

test('bad payloads are named', () => {
  assert.throws(() => plan('{"iterations": 0}'), /iterations/);
  assert.throws(() => plan('{"x": 1}'), /unknown field/);
  assert.throws(() => plan('[1]'), /expected an object/);
});
