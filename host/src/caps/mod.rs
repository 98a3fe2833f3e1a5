//! The host capabilities a workload may import, one module each. Each grants nothing unless
//! the host's configuration says so.

pub mod dynamo;
pub mod log;
