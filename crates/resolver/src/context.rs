//! Who and what a run is: workspace, pipeline, environment, trigger, run id.

/// How a run was started; it decides whose personal secrets the run may see.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Trigger {
    /// Started by a user: the personal scope is that user's.
    Manual {
        /// The user who started the run.
        user: String,
    },
    /// Started by the API or a webhook on behalf of the pipeline owner: the personal scope is the
    /// owner's, when the pipeline has one.
    Automated,
    /// Started by a schedule: no user, so no personal scope.
    Schedule,
}

impl Trigger {
    /// `manual`, `automated` or `schedule`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Trigger::Manual { .. } => "manual",
            Trigger::Automated => "automated",
            Trigger::Schedule => "schedule",
        }
    }
}

/// The run a step belongs to.
///
/// ```
/// use sigil_resolver::{RunContext, Trigger};
///
/// let context = RunContext::new("acme")
///     .pipeline("deploy")
///     .environment("production")
///     .trigger(Trigger::Manual { user: "ada".into() });
/// assert_eq!(context.personal_user(), Ok("ada"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunContext {
    /// The workspace (team) whose secrets the run sees.
    pub workspace: String,
    /// The pipeline, when the run belongs to one.
    pub pipeline: Option<String>,
    /// The pipeline's owner, whose personal scope automated runs use.
    pub pipeline_owner: Option<String>,
    /// The environment (`development`, `staging`, `production`, or any name), if any.
    pub environment: Option<String>,
    /// How the run was started.
    pub trigger: Trigger,
    /// The run's id, recorded in audit records.
    pub run_id: String,
}

impl RunContext {
    /// A manual-free context in `workspace`: no pipeline, no environment, an automated trigger
    /// and a fresh run id.
    pub fn new(workspace: impl Into<String>) -> RunContext {
        RunContext {
            workspace: workspace.into(),
            pipeline: None,
            pipeline_owner: None,
            environment: None,
            trigger: Trigger::Automated,
            run_id: new_run_id(),
        }
    }

    /// Sets the pipeline.
    #[must_use]
    pub fn pipeline(mut self, pipeline: impl Into<String>) -> RunContext {
        self.pipeline = Some(pipeline.into());
        self
    }

    /// Sets the pipeline owner.
    #[must_use]
    pub fn pipeline_owner(mut self, owner: impl Into<String>) -> RunContext {
        self.pipeline_owner = Some(owner.into());
        self
    }

    /// Sets the environment.
    #[must_use]
    pub fn environment(mut self, environment: impl Into<String>) -> RunContext {
        self.environment = Some(environment.into());
        self
    }

    /// Sets the trigger.
    #[must_use]
    pub fn trigger(mut self, trigger: Trigger) -> RunContext {
        self.trigger = trigger;
        self
    }

    /// Sets the run id.
    #[must_use]
    pub fn run_id(mut self, run_id: impl Into<String>) -> RunContext {
        self.run_id = run_id.into();
        self
    }

    /// The user whose personal scope this run sees, or why there is none.
    pub fn personal_user(&self) -> Result<&str, &'static str> {
        match &self.trigger {
            Trigger::Manual { user } => Ok(user),
            Trigger::Automated => self
                .pipeline_owner
                .as_deref()
                .ok_or("automated runs use the pipeline owner's personal scope, and this pipeline has no owner"),
            Trigger::Schedule => Err("scheduled runs have no user, so no personal scope"),
        }
    }
}

/// A run id unique enough for audit records: time and process, no randomness needed.
fn new_run_id() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    format!("run-{}-{}", now.as_millis(), std::process::id())
}
