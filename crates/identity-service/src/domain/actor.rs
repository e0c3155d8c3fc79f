//! Who writes a record: the value stored as `createdBy` (on the create) and
//! `modifiedBy` (on every change that bumps the record's `version`).

use std::borrow::Cow;

/// The author of a write. An API call's actor is the authenticated OAuth
/// client's id (Bearer or HTTP Basic alike, `$batch` inner requests
/// included); the writes no client makes carry a fixed marker: the CSV
/// import writes `import`, the demo data `demo`, and the invitation
/// workflow's own status changes (accepting through the mailed link, an
/// expiry) `invitation`. Client ids are 32 hex digits, so no client id is
/// ever one of the markers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Actor(Cow<'static, str>);

impl Actor {
    /// `import`: rows written by the `import` command.
    pub const IMPORT: Actor = Actor(Cow::Borrowed("import"));
    /// `demo`: the demo tenant's generated data.
    pub const DEMO: Actor = Actor(Cow::Borrowed("demo"));
    /// `invitation`: status changes of the invitation workflow that no
    /// client asked for (accepting through the public link, expiry).
    pub const INVITATION: Actor = Actor(Cow::Borrowed("invitation"));

    /// The authenticated OAuth client `client_id`.
    pub fn client(client_id: impl Into<String>) -> Actor {
        Actor(Cow::Owned(client_id.into()))
    }

    /// The value stored in `created_by` / `modified_by`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Actor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_and_clients_are_their_text() {
        assert_eq!(Actor::IMPORT.as_str(), "import");
        assert_eq!(Actor::DEMO.as_str(), "demo");
        assert_eq!(Actor::INVITATION.to_string(), "invitation");
        assert_eq!(Actor::client("0a1b").as_str(), "0a1b");
        assert_ne!(Actor::client("import"), Actor::client("demo"));
    }
}
