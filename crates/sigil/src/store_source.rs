//! The store as the resolver's secret source.

use secrecy::SecretString;
use sigil_resolver::{
    Access, Found, HandleOutcome, Lookup, Reveal, RunContext, SecretSource, Slot, SourceError,
};
use sigil_store::{
    Actor, Candidate, Environment, ErrorKind, NameQuery, Scope, SecretKey, SecretName, Store,
    Timestamp,
};

/// A [`Store`] answering the resolver: one candidates query per step (metadata only), one
/// transaction that decrypts the winners and writes an `access` audit record for each, and
/// handle redemption with signature, workspace and lifetime checks.
#[derive(Debug)]
pub struct StoreSource<'a> {
    store: &'a Store,
    actor: Actor,
}

impl<'a> StoreSource<'a> {
    /// Resolves from `store`, recording `actor` in audit records.
    pub fn new(store: &'a Store, actor: Actor) -> StoreSource<'a> {
        StoreSource { store, actor }
    }

    fn store_context(&self, context: &RunContext) -> sigil_store::RunContext {
        sigil_store::RunContext {
            workspace: context.workspace.clone(),
            pipeline: context.pipeline.clone(),
            user: context.personal_user().ok().map(str::to_owned),
            environment: context.environment.clone(),
            run: Some(context.run_id.clone()),
            actor: self.actor.clone(),
        }
    }
}

fn source_error(err: sigil_store::Error) -> SourceError {
    // Store errors never carry a value (the store's own invariant).
    SourceError::new(err.to_string())
}

/// Whether a stored secret sits in `slot`.
fn in_slot(key: &SecretKey, slot: &Slot) -> bool {
    let scope = match (&key.scope, slot.scope) {
        (Scope::Workspace, sigil_parser::Scope::Workspace) => true,
        (Scope::Pipeline(owner), sigil_parser::Scope::Pipeline)
        | (Scope::Personal(owner), sigil_parser::Scope::Personal) => {
            slot.owner.as_deref() == Some(owner.as_str())
        }
        _ => false,
    };
    let environment = match (&key.environment, &slot.environment) {
        (Environment::All, None) => true,
        (Environment::Named(name), Some(wanted)) => name == wanted,
        _ => false,
    };
    scope && environment
}

fn store_scope(slot: &Slot) -> Scope {
    let owner = slot.owner.clone().unwrap_or_default();
    match slot.scope {
        sigil_parser::Scope::Pipeline => Scope::Pipeline(owner),
        sigil_parser::Scope::Personal => Scope::Personal(owner),
        _ => Scope::Workspace,
    }
}

impl SecretSource for StoreSource<'_> {
    async fn find(
        &self,
        context: &RunContext,
        lookups: &[Lookup<'_>],
    ) -> Result<Vec<Found>, SourceError> {
        // A name the store would refuse cannot exist in it: it is simply not found.
        let mut queries = Vec::new();
        let mut query_of = Vec::new();
        for lookup in lookups {
            match SecretName::new(lookup.name) {
                Ok(name) => {
                    query_of.push(Some(queries.len()));
                    queries.push(NameQuery { name, scope: None });
                }
                Err(_) => query_of.push(None),
            }
        }
        let candidates = self
            .store
            .candidates(&self.store_context(context), &queries)
            .await
            .map_err(source_error)?;
        let now = Timestamp::now();
        let mut found = Vec::with_capacity(lookups.len());
        for (lookup_index, (lookup, query)) in lookups.iter().zip(query_of).enumerate() {
            let Some(query) = query else {
                continue;
            };
            for (index, slot) in lookup.slots.iter().enumerate() {
                let candidate = candidates[query]
                    .iter()
                    .find(|candidate| in_slot(&candidate.key, slot));
                if let Some(candidate) = candidate {
                    found.push(Found {
                        lookup: lookup_index,
                        slot: index,
                        expired: candidate.expires_at.is_some_and(|at| at.0 <= now.0),
                        version: u64::try_from(candidate.version).ok(),
                        id: Some(candidate.secret_id),
                    });
                }
            }
        }
        Ok(found)
    }

    async fn reveal(
        &self,
        items: &[Reveal<'_>],
        access: Access<'_>,
    ) -> Result<Vec<SecretString>, SourceError> {
        let mut picks = Vec::with_capacity(items.len());
        for item in items {
            let name = SecretName::new(item.name).map_err(source_error)?;
            let (Some(id), Some(version)) = (item.found.id, item.found.version) else {
                return Err(SourceError::new(format!(
                    "secret {} was not found by this store",
                    item.name
                )));
            };
            picks.push(Candidate {
                secret_id: id,
                key: SecretKey {
                    workspace: access.context.workspace.clone(),
                    scope: store_scope(item.slot),
                    name,
                    environment: Environment::new(item.slot.environment.as_deref()),
                },
                version: version as i64,
                expires_at: None,
            });
        }
        self.store
            .reveal_batch(
                &self.store_context(access.context),
                Some(access.step),
                &picks,
            )
            .await
            .map_err(source_error)
    }

    async fn redeem(
        &self,
        tokens: &[String],
        access: Access<'_>,
    ) -> Result<Vec<HandleOutcome>, SourceError> {
        let store_access = sigil_store::Access {
            pipeline: access.context.pipeline.clone(),
            run: Some(access.context.run_id.clone()),
            step: Some(access.step.to_owned()),
        };
        let mut outcomes = Vec::with_capacity(tokens.len());
        for token in tokens {
            let outcome = match self
                .store
                .redeem_handle(&self.actor, &access.context.workspace, token, &store_access)
                .await
            {
                Ok((meta, value)) => HandleOutcome::Redeemed {
                    name: meta.key.name.as_str().to_owned(),
                    value,
                },
                Err(err) => match err.kind() {
                    ErrorKind::HandleExpired | ErrorKind::Expired { .. } => HandleOutcome::Expired,
                    ErrorKind::HandleBadMac | ErrorKind::HandleMalformed => {
                        HandleOutcome::BadSignature
                    }
                    ErrorKind::HandleOtherWorkspace => HandleOutcome::OtherWorkspace,
                    ErrorKind::NotFound { .. } => HandleOutcome::SecretGone,
                    _ => return Err(source_error(err)),
                },
            };
            outcomes.push(outcome);
        }
        Ok(outcomes)
    }
}
