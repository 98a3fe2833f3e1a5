//! One module per subcommand, each exposing `Args` and `async fn run(args)`.

pub mod exec;
pub mod guests;
pub mod invoke;
pub mod report;
pub mod sweep;
