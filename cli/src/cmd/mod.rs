//! One module per subcommand, each exposing `Args` and `async fn run(args)`.

pub mod guests;
pub mod invoke;
