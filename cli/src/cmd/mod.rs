//! One module per subcommand, each exposing `Args` and `async fn run(args)`.

pub mod build;
pub mod exec;
pub mod guests;
pub mod invoke;
pub mod new;
pub mod report;
pub mod sweep;
