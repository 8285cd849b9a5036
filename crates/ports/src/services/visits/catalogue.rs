//! What can be booked: admins add and change sites and service types; everyone reads them.

use std::sync::Arc;

use wildid_domain::audit::{Action, Actor, AuditRecord, Origin};
use wildid_domain::ids::{ServiceTypeId, SiteId, UserId};
use wildid_domain::sighting::Area;
use wildid_domain::text::TextError;
use wildid_domain::visits::{DESCRIPTION_MAX_CHARS, NAME_MAX_CHARS, ServiceType, Site, SiteError};

use crate::RepoError;
use crate::clock::Clock;
use crate::random::{SecureRandom, random_array};
use crate::repo::{ServiceTypeRepository, SiteRepository};
use crate::services::audit::AuditTrail;
use crate::text::clean;

/// A site as an admin describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct SiteInput {
    /// Name (markup is removed).
    pub name: String,
    /// Description; blank for none (markup is removed).
    pub description: String,
    /// The map's rectangle.
    pub area: Area,
    /// Whether it takes bookings.
    pub active: bool,
}

/// A service type as an admin describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceInput {
    /// Name (markup is removed).
    pub name: String,
    /// Minutes a visit lasts.
    pub duration_minutes: u32,
    /// Places per slot.
    pub capacity: u32,
}

/// Why a catalogue change was refused. Nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CatalogueError {
    /// A field is wrong.
    #[error(transparent)]
    Invalid(#[from] SiteError),
    /// Another site or service already has this name.
    #[error("another one already has this name")]
    NameTaken,
    /// No such site or service.
    #[error("no such site or service")]
    NotFound,
    /// A dependency failed.
    #[error("visits unavailable: {0}")]
    Unavailable(String),
}

impl From<RepoError> for CatalogueError {
    fn from(e: RepoError) -> Self {
        match e {
            RepoError::NotFound => CatalogueError::NotFound,
            RepoError::Duplicate => CatalogueError::NameTaken,
            other => CatalogueError::Unavailable(other.to_string()),
        }
    }
}

/// The catalogue use case.
#[derive(Clone)]
pub struct Catalogue {
    sites: Arc<dyn SiteRepository>,
    services: Arc<dyn ServiceTypeRepository>,
    audit: AuditTrail,
    clock: Arc<dyn Clock>,
    random: Arc<dyn SecureRandom>,
}

impl Catalogue {
    /// The use case over its ports.
    pub fn new(
        sites: Arc<dyn SiteRepository>,
        services: Arc<dyn ServiceTypeRepository>,
        audit: AuditTrail,
        clock: Arc<dyn Clock>,
        random: Arc<dyn SecureRandom>,
    ) -> Self {
        Self {
            sites,
            services,
            audit,
            clock,
            random,
        }
    }

    /// Sites by name; only those taking bookings if `active_only`.
    ///
    /// # Errors
    /// [`CatalogueError::Unavailable`].
    pub async fn sites(&self, active_only: bool) -> Result<Vec<Site>, CatalogueError> {
        Ok(self.sites.list(active_only).await?)
    }

    /// One site.
    ///
    /// # Errors
    /// [`CatalogueError::NotFound`], [`CatalogueError::Unavailable`].
    pub async fn site(&self, id: SiteId) -> Result<Site, CatalogueError> {
        Ok(self.sites.get(id).await?)
    }

    /// Service types by name.
    ///
    /// # Errors
    /// [`CatalogueError::Unavailable`].
    pub async fn services(&self) -> Result<Vec<ServiceType>, CatalogueError> {
        Ok(self.services.list().await?)
    }

    /// One service type.
    ///
    /// # Errors
    /// [`CatalogueError::NotFound`], [`CatalogueError::Unavailable`].
    pub async fn service(&self, id: ServiceTypeId) -> Result<ServiceType, CatalogueError> {
        Ok(self.services.get(id).await?)
    }

    /// An admin adds a site.
    ///
    /// # Errors
    /// [`CatalogueError`] naming what is wrong.
    pub async fn add_site(
        &self,
        admin: UserId,
        input: &SiteInput,
        origin: Option<Origin>,
    ) -> Result<Site, CatalogueError> {
        let id = SiteId::from_random(self.random_id()?);
        let site = site(id, input)?;
        self.sites.insert(&site).await?;
        self.record(admin, Action::SiteAdded, id.to_string(), origin)
            .await;
        Ok(site)
    }

    /// An admin changes a site (closing it keeps its bookings).
    ///
    /// # Errors
    /// [`CatalogueError`] naming what is wrong.
    pub async fn change_site(
        &self,
        admin: UserId,
        id: SiteId,
        input: &SiteInput,
        origin: Option<Origin>,
    ) -> Result<Site, CatalogueError> {
        let site = site(id, input)?;
        self.sites.update(&site).await?;
        self.record(admin, Action::SiteChanged, id.to_string(), origin)
            .await;
        Ok(site)
    }

    /// An admin adds a service type.
    ///
    /// # Errors
    /// [`CatalogueError`] naming what is wrong.
    pub async fn add_service(
        &self,
        admin: UserId,
        input: &ServiceInput,
        origin: Option<Origin>,
    ) -> Result<ServiceType, CatalogueError> {
        let id = ServiceTypeId::from_random(self.random_id()?);
        let service = service(id, input)?;
        self.services.insert(&service).await?;
        self.record(admin, Action::ServiceAdded, id.to_string(), origin)
            .await;
        Ok(service)
    }

    /// An admin changes a service type.
    ///
    /// # Errors
    /// [`CatalogueError`] naming what is wrong.
    pub async fn change_service(
        &self,
        admin: UserId,
        id: ServiceTypeId,
        input: &ServiceInput,
        origin: Option<Origin>,
    ) -> Result<ServiceType, CatalogueError> {
        let service = service(id, input)?;
        self.services.update(&service).await?;
        self.record(admin, Action::ServiceChanged, id.to_string(), origin)
            .await;
        Ok(service)
    }

    fn random_id(&self) -> Result<[u8; 16], CatalogueError> {
        random_array(self.random.as_ref())
            .map_err(|_| CatalogueError::Unavailable("no randomness".into()))
    }

    async fn record(&self, admin: UserId, action: Action, target: String, origin: Option<Origin>) {
        let record = AuditRecord::new(self.clock.now(), Actor::User(admin), action)
            .target(target)
            .origin(origin);
        self.audit.record_or_log(record).await;
    }
}

fn site(id: SiteId, input: &SiteInput) -> Result<Site, CatalogueError> {
    let name = clean(&input.name, NAME_MAX_CHARS).map_err(SiteError::Name)?;
    let description = match clean(&input.description, DESCRIPTION_MAX_CHARS) {
        Ok(text) => text.as_str().to_owned(),
        Err(TextError::Empty) => String::new(),
        Err(e) => return Err(SiteError::Description(e).into()),
    };
    Ok(Site::new(
        id,
        name.as_str(),
        &description,
        input.area,
        input.active,
    )?)
}

fn service(id: ServiceTypeId, input: &ServiceInput) -> Result<ServiceType, CatalogueError> {
    let name = clean(&input.name, NAME_MAX_CHARS).map_err(SiteError::Name)?;
    Ok(ServiceType::new(
        id,
        name.as_str(),
        input.duration_minutes,
        input.capacity,
    )?)
}
