//! The Parallel state: runs every branch on the same input.

use std::sync::Arc;

use crate::spec::Machine;

/// The branches, each a machine of its own.
#[derive(Debug)]
pub(crate) struct Parallel {
    pub(crate) branches: Vec<Arc<Machine>>,
}
