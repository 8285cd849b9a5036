#![doc = include_str!("../README.md")]
#![deny(missing_docs)]

pub mod builtin;
pub mod clock;
pub mod crypto;
pub mod error;
pub mod health;
pub mod identify;
pub mod mail;
pub mod password;
pub mod random;
pub mod repo;
pub mod scan;
pub mod services;
pub mod text;

pub use error::RepoError;
