//! The PostgreSQL store over TLS (issue 18): `sslmode=verify-full` against a server with
//! `ssl = on` and a certificate from a throwaway CA (scripts/with-postgres makes both).

#![allow(clippy::unwrap_used)] // test support: a failed step should stop the test loudly

use twofold_server::PgStore;

/// The test server's URL with `database`, `sslmode` and, when given, `sslrootcert`.
fn url(server: &str, database: &str, mode: &str, ca: Option<&str>) -> String {
    let mut url: url::Url = server.parse().unwrap();
    url.set_path(database);
    url.query_pairs_mut().append_pair("sslmode", mode);
    if let Some(ca) = ca {
        url.query_pairs_mut().append_pair("sslrootcert", ca);
    }
    url.to_string()
}

#[tokio::test]
#[ignore = "needs PostgreSQL with TLS: run under scripts/with-postgres"]
async fn the_store_connects_with_verify_full_and_refuses_an_unknown_ca() {
    let server = std::env::var("TWOFOLD_TEST_DATABASE_URL").unwrap();
    let ca = std::env::var("TWOFOLD_TEST_DATABASE_CA").unwrap();
    let name = format!("t_{}", uuid::Uuid::new_v4().simple());
    let admin = sqlx::PgPool::connect(&server).await.unwrap();
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&admin)
        .await
        .unwrap();
    admin.close().await;

    let verified = url(&server, &name, "verify-full", Some(&ca));
    PgStore::open(&verified).await.unwrap();
    let pool = sqlx::PgPool::connect(&verified).await.unwrap();
    let encrypted: bool =
        sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert!(encrypted, "the connection is not encrypted");
    pool.close().await;
    // The same name through "localhost", which the certificate names too.
    let by_name = verified.replace("127.0.0.1", "localhost");
    PgStore::open(&by_name).await.unwrap();

    // The system's CAs do not know the throwaway one: verification is real.
    let unknown = url(&server, &name, "verify-full", None);
    assert!(PgStore::open(&unknown).await.is_err(), "a certificate from an unknown CA passed");
}
