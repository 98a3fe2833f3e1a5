//! One generic entry point, [`Emulator::call`], speaking AWS's PascalCase JSON shapes, for the
//! ASL engine's `arn:aws:states:::aws-sdk:lambda:*` and `arn:aws:states:::lambda:invoke` tasks.
//!
//! Owns the translation JSON ⇄ typed calls only. It must not hold state or implement any
//! action itself: every action goes through the typed methods of [`Emulator`].

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use crate::emulator::{Emulator, InvokeRequest, LogType};
use crate::error::LambdaApiError;
use crate::registry::ConfigUpdate;

fn params(v: &Value) -> Result<&Map<String, Value>, LambdaApiError> {
    v.as_object()
        .ok_or_else(|| LambdaApiError::invalid("parameters must be a JSON object"))
}

fn string<'a>(p: &'a Map<String, Value>, key: &str) -> Result<Option<&'a str>, LambdaApiError> {
    match p.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(LambdaApiError::invalid(format!("'{key}' must be a string"))),
    }
}

fn required<'a>(p: &'a Map<String, Value>, key: &str) -> Result<&'a str, LambdaApiError> {
    string(p, key)?.ok_or_else(|| LambdaApiError::invalid(format!("'{key}' is required")))
}

fn number(p: &Map<String, Value>, key: &str) -> Result<Option<u32>, LambdaApiError> {
    match p.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(v) => v
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| {
                LambdaApiError::invalid(format!("'{key}' must be a non-negative integer"))
            }),
    }
}

fn to_value<T: serde::Serialize>(v: &T) -> Result<Value, LambdaApiError> {
    serde_json::to_value(v).map_err(|e| LambdaApiError::service(e.to_string()))
}

impl Emulator {
    /// Run one Lambda API action given and answered in AWS's JSON shapes.
    ///
    /// Actions (camelCase as in Step Functions' `aws-sdk:lambda:<action>`, PascalCase also
    /// accepted): `getFunctionConfiguration` {FunctionName, Qualifier?},
    /// `updateFunctionConfiguration` {FunctionName, MemorySize?, Timeout?,
    /// Environment?: {Variables}, Description?}, `publishVersion` {FunctionName, Description?},
    /// `deleteFunction` {FunctionName, Qualifier?}, `createAlias` {FunctionName, Name,
    /// FunctionVersion, Description?}, `updateAlias` {FunctionName, Name, FunctionVersion?,
    /// Description?}, `getAlias` / `deleteAlias` {FunctionName, Name}, and `invoke`
    /// {FunctionName, Qualifier? (a version or an alias), Payload?, LogType?, InvocationType?}.
    ///
    /// `invoke` answers {StatusCode, ExecutedVersion, FunctionError?, LogResult?, Payload}.
    /// `Payload` may be given as a JSON value or as a string holding JSON; it is answered as the
    /// parsed JSON when the function returned JSON, else as a string of its bytes.
    /// `InvocationType` may be `RequestResponse` (default) or `DryRun` (answers 204);
    /// `Event` (asynchronous) is not emulated.
    ///
    /// # Errors
    /// The Lambda error of the action, or `InvalidParameterValueException` for an unknown action
    /// or a malformed parameter.
    pub async fn call(&self, action: &str, params_value: Value) -> Result<Value, LambdaApiError> {
        let p = params(&params_value)?;
        match action {
            "getFunctionConfiguration" | "GetFunctionConfiguration" => {
                let c = self.get_function_configuration(
                    required(p, "FunctionName")?,
                    string(p, "Qualifier")?,
                )?;
                to_value(&c)
            }
            "updateFunctionConfiguration" | "UpdateFunctionConfiguration" => {
                let environment = match p.get("Environment") {
                    None | Some(Value::Null) => None,
                    Some(e) => {
                        let vars = e.get("Variables").cloned().unwrap_or_else(|| json!({}));
                        Some(
                            serde_json::from_value::<BTreeMap<String, String>>(vars).map_err(
                                |e| {
                                    LambdaApiError::invalid(format!(
                                        "'Environment.Variables' must map strings to strings: {e}"
                                    ))
                                },
                            )?,
                        )
                    }
                };
                let update = ConfigUpdate {
                    memory_mb: number(p, "MemorySize")?,
                    timeout_s: number(p, "Timeout")?,
                    environment,
                    description: string(p, "Description")?.map(str::to_owned),
                };
                let c = self.update_function_configuration(required(p, "FunctionName")?, update)?;
                to_value(&c)
            }
            "publishVersion" | "PublishVersion" => {
                let c =
                    self.publish_version(required(p, "FunctionName")?, string(p, "Description")?)?;
                to_value(&c)
            }
            "createAlias" | "CreateAlias" => to_value(&self.create_alias(
                required(p, "FunctionName")?,
                required(p, "Name")?,
                required(p, "FunctionVersion")?,
                string(p, "Description")?.unwrap_or_default(),
            )?),
            "updateAlias" | "UpdateAlias" => to_value(&self.update_alias(
                required(p, "FunctionName")?,
                required(p, "Name")?,
                string(p, "FunctionVersion")?,
                string(p, "Description")?,
            )?),
            "getAlias" | "GetAlias" => {
                to_value(&self.get_alias(required(p, "FunctionName")?, required(p, "Name")?)?)
            }
            "deleteAlias" | "DeleteAlias" => {
                self.delete_alias(required(p, "FunctionName")?, required(p, "Name")?)?;
                Ok(json!({}))
            }
            "deleteFunction" | "DeleteFunction" => {
                self.delete_function(required(p, "FunctionName")?, string(p, "Qualifier")?)
                    .await?;
                Ok(json!({}))
            }
            "invoke" | "Invoke" => self.call_invoke(p).await,
            other => Err(LambdaApiError::invalid(format!(
                "unsupported action `{other}`; supported: getFunctionConfiguration, \
                 updateFunctionConfiguration, publishVersion, deleteFunction, invoke, \
                 createAlias, updateAlias, getAlias, deleteAlias"
            ))),
        }
    }

    async fn call_invoke(&self, p: &Map<String, Value>) -> Result<Value, LambdaApiError> {
        let function_name = required(p, "FunctionName")?.to_string();
        let qualifier = string(p, "Qualifier")?.map(str::to_string);
        let payload = match p.get("Payload") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::String(s)) => s.clone().into_bytes(),
            Some(v) => v.to_string().into_bytes(),
        };
        let log_type = LogType::from_name(string(p, "LogType")?)?;
        match string(p, "InvocationType")? {
            None | Some("RequestResponse") => {}
            Some("DryRun") => {
                let c = self.get_function_configuration(&function_name, qualifier.as_deref())?;
                return Ok(json!({ "StatusCode": 204, "ExecutedVersion": c.version }));
            }
            Some(other) => {
                return Err(LambdaApiError::invalid(format!(
                    "InvocationType {other} is not emulated; use RequestResponse or DryRun"
                )));
            }
        }
        let out = self
            .invoke(InvokeRequest {
                function_name,
                qualifier,
                payload,
                log_type,
            })
            .await?;
        let payload = serde_json::from_slice::<Value>(&out.payload)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&out.payload).into_owned()));
        let mut answer = json!({
            "StatusCode": out.status_code,
            "ExecutedVersion": out.executed_version,
            "Payload": payload,
        });
        if let Some(obj) = answer.as_object_mut() {
            if let Some(fe) = out.function_error {
                obj.insert("FunctionError".into(), Value::String(fe));
            }
            if let Some(log) = out.log_result {
                obj.insert("LogResult".into(), Value::String(log));
            }
        }
        Ok(answer)
    }
}
