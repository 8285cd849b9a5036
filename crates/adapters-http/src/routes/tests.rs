//! The router driven in-process with mocked ports, by concern: the fixture every test starts
//! from, responses (headers, errors, probes, static files, CSP reports), the anti-forgery
//! checks, the role matrix, the OpenAPI document, the edge checks and the table-driven security
//! suite.

use std::sync::Arc;

use super::{build, route, routes, table, with_layers};
use crate::access::Access;
use crate::state::{AppState, HttpSettings, Services};
use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use axum::response::Response;
use axum::routing::get;
use axum::routing::post;
use axum_extra::extract::cookie::Key;
use http_body_util::BodyExt;
use tower::ServiceExt;
use wildid_domain::captcha::{CaptchaKind, CaptchaPolicy};
use wildid_domain::ids::UserId;
use wildid_domain::pow::PowKey;
use wildid_domain::retention::RetentionPolicy;
use wildid_domain::role::Role;
use wildid_domain::session::{
    CsrfToken, Fingerprint, Session, SessionKey, SessionPolicy, SessionToken,
};
use wildid_domain::user::{EmailLookup, EncryptedField, User};
use wildid_ports::RepoError;
use wildid_ports::builtin::OsRandom;
use wildid_ports::builtin::{HmacDigest, MemoryRateLimits};
use wildid_ports::clock::Clock;
use wildid_ports::health::MockHealthCheck;
use wildid_ports::identify::MockImageChecker;
use wildid_ports::repo::MockAuditLog;
use wildid_ports::repo::MockCaptchaRepository;
use wildid_ports::repo::MockIdentificationRepository;
use wildid_ports::repo::{
    MockBookingRepository, MockExposureReportRepository, MockJobLeases, MockNotificationRepository,
    MockSealedValues, MockServiceTypeRepository, MockSiteRepository, MockVisitMappingRepository,
};
use wildid_ports::services::audit::AuditTrail;
use wildid_ports::services::captcha::{CaptchaPorts, CaptchaSettings, Captchas};
use wildid_ports::services::identify::Identifications;
use wildid_ports::services::journal::{Journal, JournalSettings};
use wildid_ports::services::limits::RequestLimits;
use wildid_ports::services::readiness::ReadinessCheck;
use wildid_ports::services::reencryption::{Reencryption, ReencryptionPorts};
use wildid_ports::services::trust::TrustGate;
use wildid_ports::services::visits::{
    BookingPorts, Bookings, Catalogue, ExposurePorts, Exposures, RetentionPorts, VisitRetention,
};

use wildid_domain::trust::RateLimitPolicy;
use wildid_ports::builtin::SystemClock;
use wildid_ports::crypto::{MockEmailIndex, MockFieldCipher, MockKeyedDigest};
use wildid_ports::mail::MockMailer;
use wildid_ports::password::{MockPasswordHasher, MockStrengthEstimator};
use wildid_ports::repo::{
    MockLoginTokenRepository, MockMailOutbox, MockRateLimitStore, MockRecoveryCodeRepository,
};
use wildid_ports::repo::{MockSessionRepository, MockUserRepository};
use wildid_ports::services::accounts::{AccountPolicy, AccountPorts, Accounts};
use wildid_ports::services::admin::Admin;
use wildid_ports::services::mail::MailQueue;
use wildid_ports::services::sessions::SessionService;
use wildid_ports::services::sign_ins::SignIns;

mod api_document;
mod csrf;
mod edge;
mod fixture;
mod responses;
mod roles;
mod suite;

use fixture::*;
