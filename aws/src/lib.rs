//! What every AWS client of powersweep shares, whichever service it calls: where its
//! configuration starts ([`loader`]: the SDK's defaults with our HTTPS client), dummy
//! credentials for endpoints on this machine ([`with_local_credentials`]) and SDK errors on
//! one line ([`one_line`]). Must not know any service's operations or build clients.
#![deny(missing_docs)]

mod credentials;
mod error;
mod loader;

pub use credentials::{is_loopback, with_local_credentials};
pub use error::one_line;
pub use loader::{http_client, loader};
