//! One type per state kind, re-exported for the rest of the crate.
//!
//! Owns nothing but the grouping; each kind lives in its own file.

pub(crate) mod choice;
pub(crate) mod distributed;
pub(crate) mod fail;
pub(crate) mod map;
pub(crate) mod parallel;
pub(crate) mod pass;
pub(crate) mod task;
pub(crate) mod wait;

pub(crate) use choice::{Choice, ChoiceRule, Comparison, Condition, Operand};
pub(crate) use fail::Fail;
pub(crate) use map::Map;
pub(crate) use parallel::Parallel;
pub(crate) use pass::Pass;
pub(crate) use task::Task;
pub(crate) use wait::Wait;
