//! `SELECT 1` as a readiness probe.

use std::sync::Arc;

use async_trait::async_trait;
use diesel_async::RunQueryDsl;
use wildid_ports::RepoError;
use wildid_ports::health::HealthCheck;

use crate::Database;
use crate::error::repo_error;
use crate::pool::with_conn;

pub(crate) struct SqlHealth {
    pub(crate) db: Arc<Database>,
}

#[async_trait]
impl HealthCheck for SqlHealth {
    async fn ping(&self) -> Result<(), RepoError> {
        with_conn!(self.db, |conn| {
            diesel::sql_query("SELECT 1")
                .execute(conn)
                .await
                .map_err(repo_error)?;
        });
        Ok(())
    }
}
