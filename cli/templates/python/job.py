"""The job, free of bindings so that `python3 -m unittest` runs it natively. Replace the
example (count the primes below a bound, in several tasks) with your own work."""

import json

DESCRIPTION = "counts the primes below `below` in `tasks` tasks (CPU-bound; Python)"


def plan(payload: str) -> list[str]:
    """`{"tasks": 4, "below": 200000}` -> one task text per task; ValueError for bad input."""
    p = json.loads(payload) if payload.strip() else {}
    tasks = p.get("tasks", 4)
    below = p.get("below", 200_000)
    if not isinstance(tasks, int) or not 1 <= tasks <= 1000:
        raise ValueError("`tasks` must be 1 to 1000")
    return [json.dumps({"below": below}) for _ in range(tasks)]


def run(task: str) -> str:
    """Counts the primes below the task's bound."""
    below = json.loads(task)["below"]
    primes = sum(1 for n in range(2, below) if is_prime(n))
    return json.dumps({"primes": primes})


def is_prime(n: int) -> bool:
    d = 2
    while d * d <= n:
        if n % d == 0:
            return False
        d += 1
    return n >= 2
