//! The hook of the `model` CPU mode: Lambda's duration computed from what the function
//! reports it did, instead of waited for under a CPU cap.
//!
//! In this mode environments run uncapped and the host meters its work; after each
//! invocation the emulator hands the response to a [`DurationModel`], which answers with the
//! duration Lambda would have taken and the response to return (e.g. with modeled figures in
//! place of measured ones). The REPORT's Duration, the billing and the timeout follow the
//! modeled duration; the measured one is kept beside it.
//!
//! The emulator stays generic: it does not know the host's response format or the model's
//! equations. Must not block: it runs on the emulator's async runtime.

use std::time::Duration;

use crate::cpu_model::CpuShare;

/// Computes an invocation's Lambda duration from its response.
pub trait DurationModel: Send + Sync + std::fmt::Debug {
    /// The modeled duration and the payload to return, for a response of `function`.
    /// `replay_of` names the invocation whose response this is when the job did not run
    /// again (see `reuse.rs`): the payload should say so, since what was measured is that
    /// run's.
    ///
    /// # Errors
    /// A one-line reason when this response cannot be modeled (the measured duration then
    /// stands, and the reason goes to the log).
    fn model(
        &self,
        function: &ModeledFunction<'_>,
        response: &[u8],
        replay_of: Option<&str>,
    ) -> Result<Modeled, String>;

    /// The part of a response that must repeat exactly for the job to be answered from an
    /// earlier run (its results and work), or `None` when it must always run: it failed,
    /// was not metered, or made host calls (whose effects must really happen).
    fn signature(&self, _response: &[u8]) -> Option<Vec<u8>> {
        None
    }
}

/// The function whose invocation is modeled.
#[derive(Debug, Clone, Copy)]
pub struct ModeledFunction<'a> {
    /// Its memory size, MB.
    pub memory_mb: u32,
    /// Lambda's share at that size (not capped by this machine's cores).
    pub cpu: &'a CpuShare,
    /// Its architecture (`x86_64`, `arm64`), whose vCPU the duration is on.
    pub architecture: &'a str,
}

/// A modeled invocation.
#[derive(Debug, Clone, PartialEq)]
pub struct Modeled {
    /// How long Lambda would have taken.
    pub duration: Duration,
    /// The response to return in place of the function's.
    pub payload: Vec<u8>,
    /// The job reached its deadline on this machine and was stopped: the work it had still
    /// to do is unknown, so the invocation is a timeout (Duration = the timeout), as Lambda
    /// reports one, whatever `duration` the finished part adds up to.
    pub stopped_at_deadline: bool,
}
