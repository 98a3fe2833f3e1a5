//! `bootstrap`: the Lambda function (a custom runtime for `provided.al2023`). All of it is in
//! `powersweep_host::lambda`; this file only starts it.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    powersweep_host::lambda::init_logs();
    powersweep_host::lambda::serve().await
}
