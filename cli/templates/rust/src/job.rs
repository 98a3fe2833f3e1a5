//! The job, free of bindings so that `cargo test` runs it natively. Replace the example
//! (count the primes below a bound, in several tasks) with your own work.

use serde_json::{Value, json};

/// What `powersweep guests` shows.
pub const DESCRIPTION: &str = "counts the primes below `below` in `tasks` tasks (CPU-bound; Rust)";

/// `{"tasks": 4, "below": 200000}` → one task text per task.
pub fn plan(payload: &str) -> Result<Vec<String>, String> {
    let p: Value = if payload.trim().is_empty() {
        json!({})
    } else {
        serde_json::from_str(payload).map_err(|e| format!("invalid payload: {e}"))?
    };
    let tasks = p.get("tasks").and_then(Value::as_u64).unwrap_or(4);
    let below = p.get("below").and_then(Value::as_u64).unwrap_or(200_000);
    if tasks == 0 || tasks > 1000 {
        return Err("`tasks` must be 1 to 1000".into());
    }
    Ok((0..tasks).map(|_| json!({ "below": below }).to_string()).collect())
}

/// Counts the primes below the task's bound.
pub fn run(task: &str) -> Result<String, String> {
    let t: Value = serde_json::from_str(task).map_err(|e| format!("invalid task: {e}"))?;
    let below = t.get("below").and_then(Value::as_u64).ok_or("a task needs `below`")?;
    let primes = (2..below).filter(|&n| is_prime(n)).count();
    Ok(json!({ "primes": primes }).to_string())
}

fn is_prime(n: u64) -> bool {
    n >= 2 && (2..).take_while(|d| d * d <= n).all(|d| n % d != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_the_primes_below_the_bound() {
        let tasks = plan(r#"{"tasks": 2, "below": 100}"#).unwrap();
        assert_eq!(tasks.len(), 2);
        assert_eq!(run(&tasks[0]).unwrap(), r#"{"primes":25}"#);
        assert!(plan(r#"{"tasks": 0}"#).is_err());
    }
}
