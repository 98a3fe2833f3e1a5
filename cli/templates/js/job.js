// The job, free of bindings so that `node --test` runs it natively. Replace the example
// (count the primes below a bound, in several tasks) with your own work.

export const DESCRIPTION = 'counts the primes below `below` in `tasks` tasks (CPU-bound; JavaScript)';

// {"tasks": 4, "below": 200000} -> one task text per task.
export function plan(payload) {
  const p = payload.trim() === '' ? {} : JSON.parse(payload);
  const tasks = p.tasks ?? 4;
  const below = p.below ?? 200000;
  if (!Number.isInteger(tasks) || tasks < 1 || tasks > 1000) throw new Error('`tasks` must be 1 to 1000');
  return Array.from({ length: tasks }, () => JSON.stringify({ below }));
}

// Counts the primes below the task's bound.
export function run(task) {
  const { below } = JSON.parse(task);
  let primes = 0;
  for (let n = 2; n < below; n++) if (isPrime(n)) primes++;
  return JSON.stringify({ primes });
}

function isPrime(n) {
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return n >= 2;
}
