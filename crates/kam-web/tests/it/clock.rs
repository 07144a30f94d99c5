//! One clock for the web: every "today" is the bank's date of the configured clock's instant.

use kam_core::user::Role;

use crate::fixture::{Options, Server};

/// A clock fixed at one instant.
#[derive(Debug)]
struct FixedClock(chrono::DateTime<chrono::Utc>);

impl kam_core::clock::Clock for FixedClock {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.0
    }
}

/// The web's "today" comes from the configured clock in the bank's time zone: an RM's book is
/// the customers they are on the team of *on that day*, so on a day before every assignment
/// began the book is empty, and today it is not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_scope_date_comes_from_the_bank_clock() {
    let long_ago = "2000-01-01T02:00:00Z".parse().unwrap();
    let server = Server::start(
        kam_store::testing::sqlite().await,
        Options {
            clock: Some(std::sync::Arc::new(FixedClock(long_ago))),
            ..Options::default()
        },
    )
    .await;
    let rm = server.user_of(Role::RelationshipManager).await;
    assert!(
        !server.visible_cifs(&rm).await.is_empty(),
        "today the RM has a book"
    );
    // Signing in works on any day; the list is the book of 2000-01-01 (Beijing time): empty.
    let mut client = server.client();
    client.sign_in(rm.username.as_str()).await;
    let list = client.get("/customers").await;
    assert!(list.body.contains("共 0 户"), "{}", list.body);
}
