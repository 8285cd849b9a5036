//! The identification settings (`WILDID_AI_*`): which providers answer, in which order, and
//! how hard a remote one is tried.

use std::path::PathBuf;
use std::time::Duration;

use wildid_adapters_ai::local_model::PROVIDER_NAME as LOCAL_MODEL;
use wildid_adapters_ai::{BreakerPolicy, ModelSource, ProviderSettings, RetryPolicy};
use wildid_domain::secret::SecretString;

use super::ConfigError;
use super::helpers::{SecretValue, bounded_int, either, invalid, section};

section! {
    /// The `WILDID_AI_*` values as read.
    struct RawIdentification {
        ai_provider: Option<String>,
        ai_base_url: Option<String>,
        ai_model: Option<String>,
        ai_api_key: SecretValue,
        ai_api_key_file: Option<PathBuf>,
        ai_timeout_seconds: Option<u64>,
        ai_model_path: Option<PathBuf>,
        ai_fallback: Option<String>,
        ai_retries: Option<u64>,
        ai_breaker_failures: Option<u64>,
        ai_breaker_cooldown_seconds: Option<u64>,
        ai_response_format: Option<String>,
        ai_openai_api_key: SecretValue,
        ai_openai_api_key_file: Option<PathBuf>,
        ai_together_api_key: SecretValue,
        ai_together_api_key_file: Option<PathBuf>,
    }
}

/// One provider of the chain.
#[derive(Debug, Clone)]
pub enum Provider {
    /// The offline classifier built into WildID (`local-model`).
    LocalModel(ModelSource),
    /// An OpenAI-compatible remote or local server.
    Remote(ProviderSettings),
}

impl Provider {
    /// The name results and logs give it.
    pub fn name(&self) -> &str {
        match self {
            Provider::LocalModel(_) => LOCAL_MODEL,
            Provider::Remote(settings) => &settings.name,
        }
    }
}

/// Who identifies photos.
#[derive(Debug, Clone)]
pub struct Identification {
    /// Asked in order until one answers: `WILDID_AI_PROVIDER`, then `WILDID_AI_FALLBACK`.
    /// Empty with `WILDID_AI_PROVIDER=none` (identification answers 503).
    pub chain: Vec<Provider>,
    /// Retries and time budget of each remote provider.
    pub retry: RetryPolicy,
    /// When a remote provider is skipped.
    pub breaker: BreakerPolicy,
}

/// The `WILDID_AI_*` values with their secrets read (from `*_FILE` too) and their numbers
/// checked.
struct RawAi {
    pub provider: Option<String>,
    pub model_path: Option<PathBuf>,
    pub base_url: Option<String>,
    pub model: Option<String>,
    pub api_key: Option<SecretString>,
    pub timeout_seconds: i64,
    pub fallback: Option<String>,
    pub retries: i64,
    pub breaker_failures: i64,
    pub breaker_cool_down_seconds: i64,
    pub response_format: Option<String>,
    pub openai_key: Option<SecretString>,
    pub together_key: Option<SecretString>,
}

/// Defaults of the two public providers: API root and model.
const OPENAI: (&str, &str) = ("https://api.openai.com/v1", "gpt-4o-mini");
const TOGETHER: (&str, &str) = (
    "https://api.together.xyz/v1",
    "meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8",
);

/// Reads the secrets and checks the numbers of [`RawIdentification`], then the chain.
pub(super) fn settings(raw: RawIdentification) -> Result<Identification, ConfigError> {
    identification(RawAi {
        provider: raw.ai_provider,
        model_path: raw.ai_model_path,
        base_url: raw.ai_base_url,
        model: raw.ai_model,
        api_key: either("WILDID_AI_API_KEY", raw.ai_api_key, raw.ai_api_key_file)?,
        timeout_seconds: bounded_int(
            "WILDID_AI_TIMEOUT_SECONDS",
            raw.ai_timeout_seconds,
            30,
            1,
            300,
        )?,
        fallback: raw.ai_fallback,
        retries: bounded_int("WILDID_AI_RETRIES", raw.ai_retries, 2, 0, 5)?,
        breaker_failures: bounded_int(
            "WILDID_AI_BREAKER_FAILURES",
            raw.ai_breaker_failures,
            5,
            1,
            100,
        )?,
        breaker_cool_down_seconds: bounded_int(
            "WILDID_AI_BREAKER_COOLDOWN_SECONDS",
            raw.ai_breaker_cooldown_seconds,
            30,
            1,
            3600,
        )?,
        response_format: raw.ai_response_format,
        openai_key: either(
            "WILDID_AI_OPENAI_API_KEY",
            raw.ai_openai_api_key,
            raw.ai_openai_api_key_file,
        )?,
        together_key: either(
            "WILDID_AI_TOGETHER_API_KEY",
            raw.ai_together_api_key,
            raw.ai_together_api_key_file,
        )?,
    })
}

/// Checks and assembles the identification settings.
fn identification(raw: RawAi) -> Result<Identification, ConfigError> {
    let timeout = Duration::from_secs(raw.timeout_seconds.unsigned_abs());
    let model_path = raw.model_path.clone().filter(|p| !p.as_os_str().is_empty());
    let local = || {
        Provider::LocalModel(
            model_path
                .clone()
                .map_or(ModelSource::Embedded, ModelSource::File),
        )
    };
    let name = raw.provider.as_deref().map(str::trim).unwrap_or_default();
    let primary = match name {
        "none" => None,
        "" | LOCAL_MODEL => Some(local()),
        _ => Some(Provider::Remote(remote_primary(name, &raw, timeout)?)),
    };
    let mut chain: Vec<Provider> = primary.into_iter().collect();
    let listed = raw.fallback.as_deref().unwrap_or_default();
    for (i, entry) in listed
        .split(',')
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .enumerate()
    {
        // The list may start with the first provider itself ("openai,together,local-model").
        if i == 0 && chain.first().is_some_and(|p| p.name() == entry) {
            continue;
        }
        if chain.is_empty() {
            return invalid(
                "WILDID_AI_FALLBACK",
                "needs a first provider: WILDID_AI_PROVIDER is none",
            );
        }
        if chain.iter().any(|p| p.name() == entry) {
            return invalid("WILDID_AI_FALLBACK", "names a provider twice");
        }
        let next = match entry {
            LOCAL_MODEL => local(),
            "openai" => Provider::Remote(public(
                "openai",
                OPENAI,
                raw.openai_key.clone(),
                "WILDID_AI_OPENAI_API_KEY",
                timeout,
                true,
            )?),
            "together" => Provider::Remote(public(
                "together",
                TOGETHER,
                raw.together_key.clone(),
                "WILDID_AI_TOGETHER_API_KEY",
                timeout,
                false,
            )?),
            _ => {
                return invalid(
                    "WILDID_AI_FALLBACK",
                    "expected local-model, openai or together, separated by commas",
                );
            }
        };
        chain.push(next);
    }
    if model_path.is_some() && !chain.iter().any(|p| matches!(p, Provider::LocalModel(_))) {
        return invalid(
            "WILDID_AI_MODEL_PATH",
            "is only read by the local-model provider, which is not in the chain",
        );
    }
    Ok(Identification {
        chain,
        retry: RetryPolicy {
            retries: u32::try_from(raw.retries).unwrap_or(2),
            budget: timeout,
            ..RetryPolicy::default()
        },
        breaker: BreakerPolicy {
            failures: u32::try_from(raw.breaker_failures).unwrap_or(5),
            cool_down: Duration::from_secs(raw.breaker_cool_down_seconds.unsigned_abs()),
        },
    })
}

/// `WILDID_AI_PROVIDER` naming a remote provider: `openai` or `together` (their public APIs,
/// which need a key), or any other name for an OpenAI-compatible server given by
/// `WILDID_AI_BASE_URL` and `WILDID_AI_MODEL` (a local model server needs no key).
fn remote_primary(
    name: &str,
    raw: &RawAi,
    timeout: Duration,
) -> Result<ProviderSettings, ConfigError> {
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        || name.len() > 32
    {
        return invalid(
            "WILDID_AI_PROVIDER",
            "expected local-model, none, openai, together, or a short lowercase name",
        );
    }
    let known = match name {
        "openai" => Some(OPENAI),
        "together" => Some(TOGETHER),
        _ => None,
    };
    // A given value wins; a known provider has a default; any other provider must say.
    let setting = |var: &'static str, given: &Option<String>, default: Option<&str>| match given
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
    {
        Some(value) => Ok(value.to_owned()),
        None => default.map(str::to_owned).ok_or(ConfigError::Invalid {
            var,
            why: "is required for a provider other than openai or together".to_owned(),
        }),
    };
    let base_url = setting("WILDID_AI_BASE_URL", &raw.base_url, known.map(|k| k.0))?;
    let model = setting("WILDID_AI_MODEL", &raw.model, known.map(|k| k.1))?;
    if known.is_some() && raw.api_key.is_none() {
        return invalid(
            "WILDID_AI_API_KEY",
            "is required by the openai and together providers",
        );
    }
    let json_schema = match raw.response_format.as_deref().map(str::trim) {
        None | Some("") => name == "openai",
        Some("json_schema") => true,
        Some("text") => false,
        Some(_) => return invalid("WILDID_AI_RESPONSE_FORMAT", "expected json_schema or text"),
    };
    checked(ProviderSettings {
        name: name.to_owned(),
        base_url,
        api_key: raw.api_key.clone(),
        model,
        timeout,
        max_tokens: 600,
        json_schema,
    })
}

/// A public provider further down the chain, with its own key variable.
fn public(
    name: &str,
    (base_url, model): (&str, &str),
    key: Option<SecretString>,
    key_var: &'static str,
    timeout: Duration,
    json_schema: bool,
) -> Result<ProviderSettings, ConfigError> {
    if key.is_none() {
        return Err(ConfigError::Invalid {
            var: key_var,
            why: format!("is required when WILDID_AI_FALLBACK names {name}"),
        });
    }
    checked(ProviderSettings {
        name: name.to_owned(),
        base_url: base_url.to_owned(),
        api_key: key,
        model: model.to_owned(),
        timeout,
        max_tokens: 600,
        json_schema,
    })
}

/// Checked here so that a bad URL (or plain http off loopback) stops the start.
fn checked(settings: ProviderSettings) -> Result<ProviderSettings, ConfigError> {
    settings.endpoint().map_err(|e| ConfigError::Invalid {
        var: "WILDID_AI_BASE_URL",
        why: e.to_string(),
    })?;
    Ok(settings)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    fn raw() -> RawAi {
        RawAi {
            provider: None,
            model_path: None,
            base_url: None,
            model: None,
            api_key: None,
            timeout_seconds: 30,
            fallback: None,
            retries: 2,
            breaker_failures: 5,
            breaker_cool_down_seconds: 30,
            response_format: None,
            openai_key: None,
            together_key: None,
        }
    }

    fn key() -> Option<SecretString> {
        Some(SecretString::new("sk-1".into()))
    }

    fn names(i: &Identification) -> Vec<&str> {
        i.chain.iter().map(Provider::name).collect()
    }

    fn refused(raw: RawAi) -> &'static str {
        match identification(raw) {
            Err(ConfigError::Invalid { var, .. }) => var,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_default_is_the_offline_model_and_none_turns_it_off() {
        let i = identification(raw()).unwrap();
        assert!(matches!(
            i.chain[..],
            [Provider::LocalModel(ModelSource::Embedded)]
        ));
        assert_eq!(i.retry.budget, Duration::from_secs(30));
        assert_eq!(i.retry.retries, 2);
        assert_eq!(i.breaker, BreakerPolicy::default());
        let with_file = identification(RawAi {
            provider: Some(" local-model ".into()),
            model_path: Some("/m/w.safetensors".into()),
            ..raw()
        })
        .unwrap();
        assert!(matches!(
            &with_file.chain[..],
            [Provider::LocalModel(ModelSource::File(p))] if p == Path::new("/m/w.safetensors")
        ));
        let none = identification(RawAi {
            provider: Some(" none ".into()),
            ..raw()
        })
        .unwrap();
        assert!(none.chain.is_empty());
    }

    #[test]
    fn remote_providers_and_their_defaults() {
        let i = identification(RawAi {
            provider: Some("openai".into()),
            api_key: key(),
            ..raw()
        })
        .unwrap();
        let Provider::Remote(openai) = &i.chain[0] else {
            panic!("remote")
        };
        assert_eq!(openai.base_url, "https://api.openai.com/v1");
        assert_eq!(openai.model, "gpt-4o-mini");
        assert_eq!(openai.timeout, Duration::from_secs(30));
        assert!(openai.json_schema, "openai takes structured output");
        let i = identification(RawAi {
            provider: Some("local".into()),
            base_url: Some("http://127.0.0.1:8000/v1".into()),
            model: Some("llava".into()),
            ..raw()
        })
        .unwrap();
        let Provider::Remote(local) = &i.chain[0] else {
            panic!("remote")
        };
        assert!(local.api_key.is_none(), "a local server needs no key");
        assert!(
            !local.json_schema,
            "only the prompt asks for JSON unless told"
        );
        let with_schema = identification(RawAi {
            provider: Some("local".into()),
            base_url: Some("http://127.0.0.1:8000/v1".into()),
            model: Some("llava".into()),
            response_format: Some("json_schema".into()),
            ..raw()
        })
        .unwrap();
        assert!(matches!(&with_schema.chain[0], Provider::Remote(p) if p.json_schema));
    }

    #[test]
    fn the_fallback_chain_is_asked_in_order() {
        let local = || RawAi {
            provider: Some("local".into()),
            base_url: Some("http://127.0.0.1:8000/v1".into()),
            model: Some("llava".into()),
            ..raw()
        };
        let i = identification(RawAi {
            fallback: Some("together, local-model".into()),
            together_key: key(),
            ..local()
        })
        .unwrap();
        assert_eq!(names(&i), ["local", "together", "local-model"]);
        // The list may repeat the first provider at its head, as in the documentation.
        let i = identification(RawAi {
            provider: Some("openai".into()),
            api_key: key(),
            fallback: Some("openai,together,local-model".into()),
            together_key: key(),
            ..raw()
        })
        .unwrap();
        assert_eq!(names(&i), ["openai", "together", "local-model"]);
        let i = identification(RawAi {
            fallback: Some("openai".into()),
            openai_key: key(),
            ..local()
        })
        .unwrap();
        assert!(matches!(&i.chain[1], Provider::Remote(p) if p.json_schema && p.api_key.is_some()));
    }

    #[test]
    fn a_wrong_chain_is_refused_with_its_variable() {
        let local = || RawAi {
            provider: Some("local".into()),
            base_url: Some("http://127.0.0.1:8000/v1".into()),
            model: Some("llava".into()),
            ..raw()
        };
        assert_eq!(
            refused(RawAi {
                fallback: Some("together".into()),
                ..local()
            }),
            "WILDID_AI_TOGETHER_API_KEY"
        );
        assert_eq!(
            refused(RawAi {
                fallback: Some("openai".into()),
                ..local()
            }),
            "WILDID_AI_OPENAI_API_KEY"
        );
        assert_eq!(
            refused(RawAi {
                fallback: Some("local-model,local-model".into()),
                ..local()
            }),
            "WILDID_AI_FALLBACK"
        );
        assert_eq!(
            refused(RawAi {
                fallback: Some("somewhere".into()),
                ..local()
            }),
            "WILDID_AI_FALLBACK"
        );
        assert_eq!(
            refused(RawAi {
                provider: Some("none".into()),
                fallback: Some("local-model".into()),
                ..raw()
            }),
            "WILDID_AI_FALLBACK"
        );
        assert_eq!(
            refused(RawAi {
                model_path: Some("/m".into()),
                ..local()
            }),
            "WILDID_AI_MODEL_PATH"
        );
        assert!(
            identification(RawAi {
                model_path: Some("/m".into()),
                fallback: Some("local-model".into()),
                ..local()
            })
            .is_ok()
        );
        assert_eq!(
            refused(RawAi {
                response_format: Some("xml".into()),
                ..local()
            }),
            "WILDID_AI_RESPONSE_FORMAT"
        );
    }

    #[test]
    fn a_wrong_first_provider_is_refused_with_its_variable() {
        let with = |provider: &str, url: Option<&str>, model: Option<&str>, api_key| RawAi {
            provider: Some(provider.into()),
            base_url: url.map(Into::into),
            model: model.map(Into::into),
            api_key,
            ..raw()
        };
        assert_eq!(
            refused(with("openai", None, None, None)),
            "WILDID_AI_API_KEY"
        );
        assert_eq!(
            refused(with("local", None, Some("m"), None)),
            "WILDID_AI_BASE_URL"
        );
        assert_eq!(
            refused(with("local", Some("http://127.0.0.1:1"), None, None)),
            "WILDID_AI_MODEL"
        );
        assert_eq!(
            refused(with("local", Some("http://10.0.0.5/v1"), Some("m"), None)),
            "WILDID_AI_BASE_URL"
        );
        assert_eq!(
            refused(with("Open AI", None, None, key())),
            "WILDID_AI_PROVIDER"
        );
    }
}
