//! Composing identification: the photo check, the chain of providers (the offline model and
//! remote OpenAI-compatible ones behind retries and a breaker), the malware scan and the
//! photos kept through the human check.

use std::sync::Arc;

use wildid_adapters_ai::local_model::PROVIDER_NAME as LOCAL_MODEL;
use wildid_adapters_ai::{
    Clamd, LocalModel, Measured, ModelLoadError, ModelSource, OpenAiCompatible, PhotoChecker,
    PhotoLimits, ProviderBoard, Resilient,
};
use wildid_ports::clock::Clock;
use wildid_ports::identify::{ProviderMonitor, SpeciesIdentifier};
use wildid_ports::repo::HeldPhotoRepository;
use wildid_ports::services::audit::AuditTrail;
use wildid_ports::services::identify::Identifications;
use wildid_ports::services::trust::TrustGate;

use crate::config::{Provider, Settings};

/// The identification use case: the photo check, the provider chain, with `WILDID_CLAMD`
/// the malware scan, and when there is a check to pass (`WILDID_CAPTCHA_KIND` not `off`) the
/// photos kept while a person passes it; and the chain's health, for the admin console.
pub(super) fn identifications(
    settings: &Settings,
    trust: TrustGate,
    held_photos: Arc<dyn HeldPhotoRepository>,
    audit: AuditTrail,
    clock: Arc<dyn Clock>,
) -> Result<(Identifications, Arc<dyn ProviderMonitor>), String> {
    let measured = providers(settings)?;
    let board: Arc<dyn ProviderMonitor> = Arc::new(ProviderBoard::new(measured.clone()));
    let chain: Vec<Arc<dyn SpeciesIdentifier>> = measured
        .into_iter()
        .map(|p| p as Arc<dyn SpeciesIdentifier>)
        .collect();
    let identify = Identifications::new(
        trust,
        Arc::new(PhotoChecker::per_core(PhotoLimits::default())),
        chain,
        clock,
    );
    let identify = if settings.captcha.is_some() {
        identify.with_held_photos(held_photos)
    } else {
        identify
    };
    let identify = match &settings.clamd {
        Some((address, timeout)) => {
            tracing::info!(clamd = %address, "uploads are scanned for malware");
            identify.with_malware_scan(Arc::new(Clamd::new(address.clone(), *timeout)), audit)
        }
        None => identify,
    };
    Ok((identify, board))
}

/// The offline classifier from `source`, classifying one photo per core at a time.
///
/// # Errors
/// [`ModelLoadError`], whose text says how to fix it.
pub fn local_model(source: &ModelSource) -> Result<LocalModel, ModelLoadError> {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    LocalModel::load(source, cores)
}

/// The configured provider chain (its settings were checked at load). Remote providers get
/// retries within their time budget and a circuit breaker. A local model that does not load
/// is left out of the chain, saying how to fix it: the rest of WildID keeps working, and with
/// nothing left identification answers 503. Loading the model takes about a tenth of a
/// second; it happens here, once, before the server accepts connections.
fn providers(settings: &Settings) -> Result<Vec<Arc<Measured>>, String> {
    let ai = &settings.identification;
    if ai.chain.is_empty() {
        tracing::info!(
            "identification is off (WILDID_AI_PROVIDER=none); POST /api/identify answers 503"
        );
    }
    let mut chain = Vec::with_capacity(ai.chain.len());
    for provider in &ai.chain {
        match provider {
            Provider::LocalModel(source) => match local_model(source) {
                Ok(model) => {
                    tracing::info!(
                        provider = LOCAL_MODEL,
                        "identification by the offline model"
                    );
                    chain.push(Arc::new(Measured::new(Arc::new(model))));
                }
                Err(e) => tracing::error!(
                    provider = LOCAL_MODEL,
                    "{e}; until then it answers nothing{}",
                    if ai.chain.len() == 1 {
                        " and POST /api/identify answers 503"
                    } else {
                        ""
                    }
                ),
            },
            Provider::Remote(remote) => {
                let client = OpenAiCompatible::new(remote.clone())
                    .map_err(|e| format!("WILDID_AI_BASE_URL: {e}"))?;
                tracing::info!(provider = %remote.name, model = %remote.model, "identification provider configured");
                chain.push(Arc::new(Measured::with_breaker(Arc::new(Resilient::new(
                    Arc::new(client),
                    ai.retry.clone(),
                    ai.breaker.clone(),
                )))));
            }
        }
    }
    Ok(chain)
}
