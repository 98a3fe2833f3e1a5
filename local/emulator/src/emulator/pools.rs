//! The warm environments of each function version: reuse of an idle one, a cold start within
//! the per-version limit, return after an invocation (or destruction when it must not be
//! reused), and a configuration change making older ones stale. Must not run invocations.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::cgroup::EnvLimits;
use crate::cpu_model::{self, CpuShare};
use crate::environment::{ENV_VISIBLE_CORES, Environment, SpawnSpec};
use crate::error::{ErrorType, LambdaApiError};
use crate::registry::Target;

use super::{Emulator, Inner, Starting, lock};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct PoolKey {
    pub(super) function: String,
    pub(super) version: String,
}

#[derive(Debug, Default)]
pub(super) struct Pool {
    pub(super) idle: Vec<Arc<Environment>>,
    /// Environments of the current generation, idle or busy.
    pub(super) live: usize,
    pub(super) generation: u64,
}

impl Emulator {
    /// A warm environment, or a new one (cold) within the limit.
    pub(super) async fn acquire(
        &self,
        key: &PoolKey,
        target: &Target,
        cpu: &CpuShare,
    ) -> Result<(Arc<Environment>, bool), LambdaApiError> {
        let mut stale = Vec::new();
        let pick = {
            let mut pools = lock(&self.inner.pools);
            let pool = pools.entry(key.clone()).or_default();
            if pool.generation != target.config.generation {
                // The configuration changed: old environments must not serve it.
                stale.append(&mut pool.idle);
                pool.live = 0;
                pool.generation = target.config.generation;
            }
            let mut warm = None;
            while let Some(env) = pool.idle.pop() {
                if env.is_dead() {
                    pool.live = pool.live.saturating_sub(1);
                    stale.push(env);
                } else {
                    warm = Some(env);
                    break;
                }
            }
            match warm {
                Some(env) => Ok(Some(env)),
                None if pool.live >= self.inner.config.max_environments_per_version => Err(()),
                None => {
                    pool.live += 1;
                    Ok(None)
                }
            }
        };
        for env in stale {
            self.inner.destroy(&env).await;
        }
        let Ok(warm) = pick else {
            return Err(LambdaApiError::new(
                ErrorType::TooManyRequests,
                "Rate Exceeded.",
            ));
        };
        if let Some(env) = warm {
            return Ok((env, false));
        }
        match self.spawn(target, cpu).await {
            Ok(env) => Ok((env, true)),
            Err(e) => {
                if let Some(pool) = lock(&self.inner.pools).get_mut(key)
                    && pool.generation == target.config.generation
                {
                    pool.live = pool.live.saturating_sub(1);
                }
                Err(e)
            }
        }
    }

    pub(super) async fn spawn(
        &self,
        target: &Target,
        cpu: &CpuShare,
    ) -> Result<Arc<Environment>, LambdaApiError> {
        let inner = &self.inner;
        let _starting = Starting::enter(inner);
        if inner.shut.load(Ordering::SeqCst) {
            return Err(LambdaApiError::service("the emulator is shut down"));
        }
        let n = inner.seq.fetch_add(1, Ordering::SeqCst);
        let name = format!(
            "e{}-{}-{}-{n}",
            inner.id,
            target.name,
            target.version.trim_start_matches('$')
        );
        let c = &target.config;
        let stream = format!(
            "{}/[{}]{}",
            chrono::Utc::now().format("%Y/%m/%d"),
            target.version,
            uuid::Uuid::new_v4().simple()
        );
        let mut env: BTreeMap<String, String> = c.environment.clone();
        let lambda_vars = [
            ("AWS_LAMBDA_FUNCTION_NAME", target.name.clone()),
            ("AWS_LAMBDA_FUNCTION_VERSION", target.version.clone()),
            ("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", c.memory_mb.to_string()),
            (
                "AWS_LAMBDA_LOG_GROUP_NAME",
                format!("/aws/lambda/{}", target.name),
            ),
            ("AWS_LAMBDA_LOG_STREAM_NAME", stream),
            ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".into()),
            ("LAMBDA_TASK_ROOT", c.task_root.display().to_string()),
            ("LAMBDA_RUNTIME_DIR", c.task_root.display().to_string()),
            ("AWS_REGION", inner.config.region.clone()),
            ("AWS_DEFAULT_REGION", inner.config.region.clone()),
            ("AWS_EXECUTION_ENV", "AWS_Lambda_provided.al2023".into()),
            ("_HANDLER", "bootstrap".into()),
            ("TZ", ":UTC".into()),
            ("LANG", "en_US.UTF-8".into()),
            ("PATH", "/usr/local/bin:/usr/bin/:/bin:/opt/bin".into()),
            // Lambda's visible cores for the host to report: under a cgroup quota, std's
            // `available_parallelism` answers floor(share), not what Lambda shows.
            (ENV_VISIBLE_CORES, cpu.visible_cores.to_string()),
        ];
        // Lambda's reserved variables win over the function's own, as in Lambda.
        for (k, v) in lambda_vars {
            env.insert(k.to_string(), v);
        }
        let spec = SpawnSpec {
            name,
            bootstrap: c.bootstrap.clone(),
            task_root: c.task_root.clone(),
            env,
            visible_cores: cpu.visible_cores,
            limits: EnvLimits {
                vcpus: cpu.vcpus,
                init_vcpus: cpu.vcpus.max(cpu_model::INIT_VCPUS),
                memory_mb: c.memory_mb,
                period_us: inner.config.cfs_period_us,
            },
        };
        let env = Environment::spawn(spec, inner.control.as_ref())
            .await
            .map_err(|e| LambdaApiError::service(format!("could not start an environment: {e}")))?;
        tracing::debug!(env = %env.name, pid = env.pid, runtime_api = %env.runtime_api, "environment started");
        lock(&inner.history).push((env.pid, env.cgroup_dirs()));
        lock(&inner.envs).insert(env.name.clone(), env.clone());
        if inner.shut.load(Ordering::SeqCst) {
            inner.destroy(&env).await;
            return Err(LambdaApiError::service("the emulator is shut down"));
        }
        Ok(env)
    }

    pub(super) async fn release(
        &self,
        key: &PoolKey,
        generation: u64,
        env: Arc<Environment>,
        keep: bool,
    ) {
        let discard = {
            let mut pools = lock(&self.inner.pools);
            match pools.get_mut(key) {
                Some(pool) if pool.generation == generation => {
                    if keep && !env.is_dead() && !self.inner.shut.load(Ordering::SeqCst) {
                        pool.idle.push(env.clone());
                        false
                    } else {
                        pool.live = pool.live.saturating_sub(1);
                        true
                    }
                }
                // Deleted, or the configuration changed meanwhile.
                _ => true,
            }
        };
        if discard {
            self.inner.destroy(&env).await;
        }
    }
}

impl Inner {
    pub(super) async fn destroy(&self, env: &Arc<Environment>) {
        env.destroy().await;
        lock(&self.envs).remove(&env.name);
    }
}
