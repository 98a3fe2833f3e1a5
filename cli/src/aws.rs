//! `powersweep sweep --aws`: one execution of the deployed state machine on Step Functions,
//! started and followed until it ends, with progress read from the execution's history.
//!
//! It owns the Step Functions client (endpoint, region, credentials) and the reading of
//! the execution; it must not interpret the output beyond parsing it as JSON: the caller
//! turns it into an `AnalyzerOutput` and renders it like a local sweep.

use anyhow::{Context, Result, anyhow, bail};
use aws_sdk_sfn::Client;
use aws_sdk_sfn::config::Region;
use aws_sdk_sfn::operation::start_execution::StartExecutionError;
use aws_sdk_sfn::types::{ExecutionStatus, HistoryEvent, HistoryEventType};
use serde_json::Value;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::progress::Progress;

/// How often the execution is polled unless `POWERSWEEP_POLL_MS` says otherwise.
const DEFAULT_POLL: Duration = Duration::from_secs(1);

/// Lambda errors the state machine retries: a task failing with one of them is normally
/// tried again, so it does not count as a finished invocation.
const RETRIED: [&str; 4] = [
    "Lambda.TooManyRequestsException",
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
];

/// The user pressed Ctrl-C: we stopped following, the execution goes on.
#[derive(Debug)]
pub struct Interrupted {
    /// The execution that keeps running.
    pub execution_arn: String,
    /// Where to watch it, when the endpoint is AWS's.
    pub console_url: Option<String>,
}

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "interrupted: stopped following, the execution keeps running on AWS: {}",
            self.execution_arn
        )?;
        if let Some(url) = &self.console_url {
            write!(f, " ({url})")?;
        }
        Ok(())
    }
}

impl std::error::Error for Interrupted {}

/// Starts an execution of `state_machine_arn` with `input`, follows it until it ends and
/// returns its output (the analyzer's output, for powersweep's state machine).
///
/// The client comes from the standard AWS configuration (`AWS_PROFILE`, `AWS_ENDPOINT_URL`,
/// `AWS_ENDPOINT_URL_SFN`, credentials …); the region is the state machine's, taken from its
/// ARN. When the endpoint is on loopback (moto) and neither `AWS_ACCESS_KEY_ID` nor
/// `AWS_PROFILE` is set, dummy credentials are used. The execution is polled every second,
/// or every `POWERSWEEP_POLL_MS` milliseconds. `progress` gets the invocations finished, of
/// `total` (the plan's count), and the configuration running; it is finished before this
/// returns.
///
/// # Errors
/// A malformed ARN; a start that fails (no such state machine, no credentials …); an
/// execution that ends FAILED, TIMED_OUT or ABORTED (the message has its error, cause and
/// ARN); an output that is not JSON; Ctrl-C ([`Interrupted`]: the execution keeps running).
pub async fn run_execution(
    state_machine_arn: &str,
    input: &Value,
    total: u64,
    progress: &Progress,
) -> Result<Value> {
    let poll = poll_interval()?;
    let region = arn_region(state_machine_arn)?;
    let (client, local) = client(region).await;
    let result = follow(
        &client,
        state_machine_arn,
        input,
        total,
        progress,
        poll,
        !local,
    )
    .await;
    progress.finish();
    result
}

/// `POWERSWEEP_POLL_MS`, else [`DEFAULT_POLL`].
fn poll_interval() -> Result<Duration> {
    match std::env::var("POWERSWEEP_POLL_MS") {
        Err(_) => Ok(DEFAULT_POLL),
        Ok(text) => match text.trim().parse::<u64>() {
            Ok(ms) if ms > 0 => Ok(Duration::from_millis(ms)),
            _ => bail!(
                "POWERSWEEP_POLL_MS must be a number of milliseconds above 0, e.g. 1000, got `{text}`"
            ),
        },
    }
}

/// The region field of `arn:PARTITION:states:REGION:ACCOUNT:stateMachine:NAME[:QUALIFIER]`.
pub(crate) fn arn_region(arn: &str) -> Result<&str> {
    let parts: Vec<&str> = arn.split(':').collect();
    match parts.as_slice() {
        ["arn", _, "states", region, _, "stateMachine", name, ..]
            if !region.is_empty() && !name.is_empty() =>
        {
            Ok(region)
        }
        _ => bail!(
            "`{arn}` is not a state machine ARN: pass `arn:aws:states:REGION:ACCOUNT:stateMachine:NAME`, the stack's `StateMachineArn` output"
        ),
    }
}

/// A client for `region`, and whether its endpoint is on loopback.
async fn client(region: &str) -> (Client, bool) {
    let timeouts = aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(Duration::from_secs(5))
        .operation_timeout(Duration::from_secs(60))
        .build();
    let mut loader = powersweep_aws::loader()
        .timeout_config(timeouts)
        // The state machine lives in the region of its ARN, whatever the profile says.
        .region(Region::new(region.to_owned()));
    let endpoint = std::env::var("AWS_ENDPOINT_URL_SFN")
        .or_else(|_| std::env::var("AWS_ENDPOINT_URL"))
        .ok();
    let local = endpoint.as_deref().is_some_and(powersweep_aws::is_loopback);
    loader = powersweep_aws::with_local_credentials(loader, endpoint.as_deref());
    (Client::new(&loader.load().await), local)
}

/// Starts the execution and follows it; the body of [`run_execution`].
pub(crate) async fn follow(
    client: &Client,
    state_machine_arn: &str,
    input: &Value,
    total: u64,
    progress: &Progress,
    poll: Duration,
    on_aws: bool,
) -> Result<Value> {
    let execution_arn = start(client, state_machine_arn, input).await?;
    let console_url = on_aws.then(|| console_url(&execution_arn));
    tracing::info!(%execution_arn, "execution started");
    let watch = watch(
        client,
        &execution_arn,
        console_url.as_deref(),
        total,
        progress,
        poll,
    );
    let interrupt = async {
        // Without a handler, Ctrl-C keeps its default (end the process), which is fine.
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    tokio::select! {
        result = watch => result,
        () = interrupt => Err(Interrupted { execution_arn, console_url }.into()),
    }
}

async fn start(client: &Client, state_machine_arn: &str, input: &Value) -> Result<String> {
    let millis = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis();
    let sent = client
        .start_execution()
        .state_machine_arn(state_machine_arn)
        .name(format!("powersweep-{millis}"))
        .input(serde_json::to_string(input)?)
        .send()
        .await;
    match sent {
        Ok(out) => Ok(out.execution_arn().to_owned()),
        Err(e) => {
            let why = match e.as_service_error() {
                Some(StartExecutionError::StateMachineDoesNotExist(_)) => format!(
                    "state machine `{state_machine_arn}` does not exist: check --state-machine-arn (the stack's `StateMachineArn` output) and the AWS account"
                ),
                Some(StartExecutionError::InvalidArn(_)) => format!(
                    "`{state_machine_arn}` is not a valid state machine ARN: pass the stack's `StateMachineArn` output"
                ),
                Some(StartExecutionError::InvalidExecutionInput(_)) => format!(
                    "the state machine refused the input ({}): check --payload and the other sweep flags",
                    crate::terminal::escape(&powersweep_aws::one_line(&e))
                ),
                _ => format!(
                    "cannot start an execution of `{state_machine_arn}`: {}; check the AWS credentials and endpoint (AWS_PROFILE, AWS_ENDPOINT_URL)",
                    crate::terminal::escape(&powersweep_aws::one_line(&e))
                ),
            };
            Err(anyhow!(why))
        }
    }
}

/// Polls until the execution ends; the output on SUCCEEDED, an error otherwise.
async fn watch(
    client: &Client,
    execution_arn: &str,
    console_url: Option<&str>,
    total: u64,
    progress: &Progress,
    poll: Duration,
) -> Result<Value> {
    let mut tracker = Tracker::default();
    let mut history_works = true;
    let at = || match console_url {
        Some(url) => format!("execution {execution_arn}, {url}"),
        None => format!("execution {execution_arn}"),
    };
    loop {
        let described = client
            .describe_execution()
            .execution_arn(execution_arn)
            .send()
            .await
            .map_err(|e| {
                anyhow!(
                    "cannot follow the execution ({}); it may still be running: {}",
                    crate::terminal::escape(&powersweep_aws::one_line(&e)),
                    at()
                )
            })?;
        let cause = || {
            let error = described.error().unwrap_or("no error name");
            match described.cause().filter(|c| !c.is_empty()) {
                Some(cause) => format!("{error}: {}", one_line(cause)),
                None => error.to_owned(),
            }
        };
        match described.status() {
            ExecutionStatus::Succeeded => {
                progress.set_done(total);
                let output = described.output().ok_or_else(|| {
                    anyhow!("the execution succeeded without an output: {}", at())
                })?;
                return serde_json::from_str(output).with_context(|| {
                    format!(
                        "the execution succeeded but its output is not JSON: {}",
                        at()
                    )
                });
            }
            ExecutionStatus::Failed => bail!("the execution failed: {} ({})", cause(), at()),
            ExecutionStatus::TimedOut => {
                bail!("the execution timed out: {} ({})", cause(), at())
            }
            ExecutionStatus::Aborted => {
                bail!("the execution was stopped on AWS: {} ({})", cause(), at())
            }
            _ => {}
        }
        // Progress is a nicety: a role without states:GetExecutionHistory still sweeps.
        if history_works {
            match read_history(client, execution_arn, &mut tracker).await {
                Ok(()) => {
                    progress.set_done(tracker.done().min(total));
                    if let Some(message) = &tracker.message {
                        progress.set_message(message.clone());
                    }
                }
                Err(e) => {
                    tracing::warn!("no progress, cannot read the execution history: {e:#}");
                    history_works = false;
                }
            }
        }
        tokio::time::sleep(poll).await;
    }
}

/// Feeds `tracker` the events it has not seen yet.
///
/// Pages come newest first, so a long execution costs one page per poll; servers that
/// ignore `reverseOrder` (moto) still work because every event is checked by id.
async fn read_history(client: &Client, execution_arn: &str, tracker: &mut Tracker) -> Result<()> {
    let mut fresh = Vec::new();
    let mut token = None;
    loop {
        let page = client
            .get_execution_history()
            .execution_arn(execution_arn)
            .reverse_order(true)
            .max_results(1000)
            .include_execution_data(true)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| anyhow!("{}", crate::terminal::escape(&powersweep_aws::one_line(&e))))?;
        let mut reached_seen = false;
        for event in page.events() {
            if event.id() > tracker.last_id {
                fresh.push(event.clone());
            } else {
                reached_seen = true;
            }
        }
        token = page.next_token().map(str::to_owned);
        if reached_seen || token.is_none() {
            break;
        }
    }
    fresh.sort_by_key(HistoryEvent::id);
    for event in &fresh {
        tracker.observe(event);
    }
    Ok(())
}

/// What the history says so far: invocations finished, and what runs now.
#[derive(Default)]
struct Tracker {
    /// The newest event seen.
    last_id: i64,
    /// Lambda invocations that ended for good.
    invocations: u64,
    /// "1024 MB × 2 threads", or the name of the task state entered last.
    message: Option<String>,
}

impl Tracker {
    fn observe(&mut self, event: &HistoryEvent) {
        self.last_id = self.last_id.max(event.id());
        let is_invoke = |resource_type: &str, resource: &str| {
            resource_type == "lambda" && resource.starts_with("invoke")
        };
        match event.r#type() {
            HistoryEventType::TaskSucceeded => {
                if let Some(d) = event.task_succeeded_event_details()
                    && is_invoke(d.resource_type(), d.resource())
                {
                    self.invocations += 1;
                }
            }
            HistoryEventType::TaskFailed => {
                if let Some(d) = event.task_failed_event_details()
                    && is_invoke(d.resource_type(), d.resource())
                    && !d.error().is_some_and(|e| RETRIED.contains(&e))
                {
                    self.invocations += 1;
                }
            }
            HistoryEventType::TaskTimedOut => {
                if let Some(d) = event.task_timed_out_event_details()
                    && is_invoke(d.resource_type(), d.resource())
                {
                    self.invocations += 1;
                }
            }
            // A `Resource` that is a function ARN (the older Lambda integration).
            HistoryEventType::LambdaFunctionSucceeded
            | HistoryEventType::LambdaFunctionFailed
            | HistoryEventType::LambdaFunctionTimedOut => self.invocations += 1,
            HistoryEventType::TaskStateEntered => {
                if let Some(d) = event.state_entered_event_details() {
                    self.message =
                        Some(configuration(d.input()).unwrap_or_else(|| d.name().to_owned()));
                }
            }
            _ => {}
        }
    }

    fn done(&self) -> u64 {
        self.invocations
    }
}

/// "1024 MB × 2 threads" when a state's input names both.
fn configuration(input: Option<&str>) -> Option<String> {
    // The analyzer's input holds every sample; it names no configuration anyway.
    let input = input.filter(|i| i.len() < 16 * 1024)?;
    let value: Value = serde_json::from_str(input).ok()?;
    let memory = value["memoryMb"].as_u64()?;
    let threads = value["threads"].as_u64()?;
    let unit = if threads == 1 { "thread" } else { "threads" };
    Some(format!("{memory} MB × {threads} {unit}"))
}

/// The Step Functions console page of an execution.
fn console_url(execution_arn: &str) -> String {
    let region = execution_arn.split(':').nth(3).unwrap_or("us-east-1");
    format!(
        "https://{region}.console.aws.amazon.com/states/home?region={region}#/v2/executions/details/{execution_arn}"
    )
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_sfn::types::{
        StateEnteredEventDetails, TaskFailedEventDetails, TaskSucceededEventDetails,
    };
    use serde_json::json;

    fn event(id: i64, kind: HistoryEventType) -> aws_sdk_sfn::types::builders::HistoryEventBuilder {
        HistoryEvent::builder()
            .id(id)
            .r#type(kind)
            .timestamp(aws_smithy_types_now())
    }

    fn aws_smithy_types_now() -> aws_sdk_sfn::primitives::DateTime {
        aws_sdk_sfn::primitives::DateTime::from_secs(0)
    }

    fn succeeded(id: i64, resource_type: &str, resource: &str) -> HistoryEvent {
        event(id, HistoryEventType::TaskSucceeded)
            .task_succeeded_event_details(
                TaskSucceededEventDetails::builder()
                    .resource_type(resource_type)
                    .resource(resource)
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap()
    }

    fn failed(id: i64, error: &str) -> HistoryEvent {
        event(id, HistoryEventType::TaskFailed)
            .task_failed_event_details(
                TaskFailedEventDetails::builder()
                    .resource_type("lambda")
                    .resource("invoke")
                    .error(error)
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap()
    }

    fn entered(id: i64, name: &str, input: Value) -> HistoryEvent {
        event(id, HistoryEventType::TaskStateEntered)
            .state_entered_event_details(
                StateEnteredEventDetails::builder()
                    .name(name)
                    .input(input.to_string())
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap()
    }

    #[test]
    fn counts_finished_invocations_only() {
        let mut t = Tracker::default();
        let events = [
            entered(1, "Publish", json!({"entry": 1})),
            succeeded(2, "aws-sdk:lambda", "publishVersion"),
            entered(3, "Invoke", json!({"memoryMb": 1024, "threads": 2})),
            succeeded(4, "lambda", "invoke"),
            failed(5, "Lambda.TooManyRequestsException"),
            failed(6, "Sandbox.Timedout"),
        ];
        for e in &events {
            t.observe(e);
        }
        assert_eq!(t.done(), 2, "one success and one final failure");
        assert_eq!(t.message.as_deref(), Some("1024 MB × 2 threads"));
        assert_eq!(t.last_id, 6);
        t.observe(&entered(7, "Analyze", json!({"samples": []})));
        assert_eq!(t.message.as_deref(), Some("Analyze"));
    }

    #[test]
    fn arn_region_checks_the_shape() {
        let arn = "arn:aws:states:eu-west-1:123456789012:stateMachine:sweep";
        assert_eq!(arn_region(arn).unwrap(), "eu-west-1");
        let err = arn_region("sweep").unwrap_err().to_string();
        assert!(err.contains("not a state machine ARN"), "{err}");
        assert!(arn_region("arn:aws:lambda:eu-west-1:1:function:f").is_err());
    }

    #[test]
    fn interrupted_names_the_arn() {
        let e = Interrupted {
            execution_arn: "arn:aws:states:us-east-1:1:execution:sm:powersweep-1".into(),
            console_url: Some(console_url(
                "arn:aws:states:us-east-1:1:execution:sm:powersweep-1",
            )),
        };
        let text = e.to_string();
        assert!(text.contains(
            "keeps running on AWS: arn:aws:states:us-east-1:1:execution:sm:powersweep-1"
        ));
        assert!(text.contains("https://us-east-1.console.aws.amazon.com/states/home?region=us-east-1#/v2/executions/details/arn:"));
    }
}
