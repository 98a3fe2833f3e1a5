//! One line for an AWS SDK error: what failed, in words, with the innermost cause, instead
//! of the SDK's nested debug dump ("dispatch failure … (and 1 more errors)"). Must not decide
//! what to do about the error; callers add the fix.

use aws_credential_types::provider::error::CredentialsError;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use std::error::Error;

/// `e` on one line: the service's error code and message, or what kept the request from
/// getting an answer and its root cause.
pub fn one_line<E, R>(e: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + Error + 'static,
    R: std::fmt::Debug + 'static,
{
    if let Some(credentials) = find::<CredentialsError>(e) {
        let why = match credentials {
            CredentialsError::CredentialsNotLoaded(_) => "none found",
            CredentialsError::ProviderTimedOut(_) => "their provider timed out",
            CredentialsError::InvalidConfiguration(_) => "the AWS configuration is invalid",
            _ => "their provider failed",
        };
        return format!(
            "no usable AWS credentials ({why}): set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
        );
    }
    let text = match e {
        SdkError::ServiceError(service) => {
            let err = service.err();
            match (err.code(), err.message()) {
                (Some(code), Some(message)) => format!("{code}: {message}"),
                (Some(code), None) => code.to_owned(),
                _ => format!("the service refused the request: {}", root_cause(err)),
            }
        }
        SdkError::DispatchFailure(failure) if failure.is_timeout() => {
            format!("no answer in time: {}", root_cause(e))
        }
        SdkError::DispatchFailure(failure) if failure.is_user() => {
            format!("the request could not be sent: {}", root_cause(e))
        }
        SdkError::DispatchFailure(_) => format!("cannot reach the service: {}", root_cause(e)),
        SdkError::TimeoutError(_) => "no answer in time".to_owned(),
        SdkError::ResponseError(_) => format!("unreadable answer: {}", root_cause(e)),
        SdkError::ConstructionFailure(_) => {
            format!("the request could not be built: {}", root_cause(e))
        }
        _ => root_cause(e),
    };
    // One line, whatever a service put in its message.
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The first error of type `T` in `e`'s chain of sources.
fn find<'a, T: Error + 'static>(e: &'a (dyn Error + 'static)) -> Option<&'a T> {
    let mut next = Some(e);
    while let Some(err) = next {
        if let Some(found) = err.downcast_ref::<T>() {
            return Some(found);
        }
        next = err.source();
    }
    None
}

/// The innermost error's message: the one that says what really happened (connection
/// refused, no credentials, …).
fn root_cause(e: &(dyn Error + 'static)) -> String {
    let mut inner = e;
    while let Some(source) = inner.source() {
        inner = source;
    }
    inner.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_runtime_api::client::result::ConnectorError;
    use aws_smithy_types::error::ErrorMetadata;

    #[test]
    fn a_refused_connection_is_one_short_line_with_the_root_cause() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "Connection refused");
        let e: SdkError<ErrorMetadata, ()> =
            SdkError::dispatch_failure(ConnectorError::io(Box::new(io)));
        let line = one_line(&e);
        assert_eq!(line, "cannot reach the service: Connection refused");
    }

    #[test]
    fn a_service_error_is_its_code_and_message_on_one_line() {
        let err = ErrorMetadata::builder()
            .code("ResourceNotFoundException")
            .message("Table: t\nnot found")
            .build();
        let e: SdkError<ErrorMetadata, ()> = SdkError::service_error(err, ());
        assert_eq!(
            one_line(&e),
            "ResourceNotFoundException: Table: t not found"
        );
    }

    #[test]
    fn missing_credentials_say_how_to_give_some() {
        let missing = CredentialsError::not_loaded("no credentials found in chain. Attempted: …");
        let e: SdkError<ErrorMetadata, ()> =
            SdkError::dispatch_failure(ConnectorError::user(Box::new(missing)));
        let line = one_line(&e);
        assert!(
            line.starts_with("no usable AWS credentials (none found)"),
            "{line}"
        );
        assert!(line.contains("AWS_PROFILE"), "{line}");
    }
}
