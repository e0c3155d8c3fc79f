//! Client scopes: `identity.read`, `identity.write` and `identity.admin`.

use std::fmt;

/// One scope a client may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// `identity.read`: GET and HEAD on API 1 and the whole v4 feed.
    Read,
    /// `identity.write`: every other method of API 1.
    Write,
    /// `identity.admin`: diagnostics (`explain`); implies neither of the
    /// others.
    Admin,
}

impl Scope {
    /// Every scope, in canonical order.
    pub const ALL: [Scope; 3] = [Scope::Read, Scope::Write, Scope::Admin];

    /// The scope's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Read => "identity.read",
            Scope::Write => "identity.write",
            Scope::Admin => "identity.admin",
        }
    }

    /// The scope a request with this HTTP method needs.
    pub fn for_method(method: &actix_web::http::Method) -> Scope {
        use actix_web::http::Method;
        if method == Method::GET || method == Method::HEAD {
            Scope::Read
        } else {
            Scope::Write
        }
    }

    fn bit(self) -> u8 {
        match self {
            Scope::Read => 1,
            Scope::Write => 2,
            Scope::Admin => 4,
        }
    }
}

/// A set of scopes, written space-separated (`identity.read identity.write`),
/// as in the OAuth2 `scope` parameter.
#[derive(Clone, Copy, PartialEq, Eq, Default)]
pub struct Scopes(u8);

impl Scopes {
    /// Read and write: what `clients create` grants unless told otherwise
    /// (`identity.admin` only when asked for).
    pub fn all() -> Scopes {
        Scopes(Scope::Read.bit() | Scope::Write.bit())
    }

    /// Parses a space- (or comma-) separated list of scope names. An unknown
    /// name is an error naming it; an empty list is an error.
    pub fn parse(text: &str) -> Result<Scopes, String> {
        let mut set = Scopes::default();
        for name in text.split([' ', ',']).filter(|s| !s.is_empty()) {
            let scope = Scope::ALL
                .into_iter()
                .find(|s| s.as_str() == name)
                .ok_or_else(|| {
                    format!("unknown scope '{name}' (known: identity.read, identity.write, identity.admin)")
                })?;
            set.0 |= scope.bit();
        }
        if set.is_empty() {
            return Err(
                "no scope given (known: identity.read, identity.write, identity.admin)".to_owned(),
            );
        }
        Ok(set)
    }

    /// Whether the set holds `scope`.
    pub fn contains(self, scope: Scope) -> bool {
        self.0 & scope.bit() != 0
    }

    /// Whether every scope of `self` is in `other`.
    pub fn is_subset_of(self, other: Scopes) -> bool {
        self.0 & !other.0 == 0
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for scope in Scope::ALL.into_iter().filter(|s| self.contains(*s)) {
            if !first {
                f.write_str(" ")?;
            }
            f.write_str(scope.as_str())?;
            first = false;
        }
        Ok(())
    }
}

impl fmt::Debug for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Scopes({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_canonically() {
        let both = Scopes::parse("identity.write identity.read").unwrap();
        assert_eq!(both, Scopes::all());
        assert_eq!(both.to_string(), "identity.read identity.write");
        let read = Scopes::parse("identity.read").unwrap();
        assert!(read.contains(Scope::Read) && !read.contains(Scope::Write));
        assert!(read.is_subset_of(both) && !both.is_subset_of(read));
        assert_eq!(Scopes::parse("identity.read,identity.write").unwrap(), both);
        let admin = Scopes::parse("identity.admin").unwrap();
        assert!(admin.contains(Scope::Admin) && !admin.contains(Scope::Read));
        assert!(!admin.is_subset_of(both) && !both.contains(Scope::Admin));
        let all = Scopes::parse("identity.admin identity.read identity.write").unwrap();
        assert_eq!(
            all.to_string(),
            "identity.read identity.write identity.admin"
        );
    }

    #[test]
    fn refuses_unknown_and_empty() {
        assert!(
            Scopes::parse("identity.root")
                .unwrap_err()
                .contains("identity.root")
        );
        assert!(Scopes::parse("  ").is_err());
        assert!(Scopes::parse("Identity.Read").is_err());
    }

    #[test]
    fn methods_map_to_scopes() {
        use actix_web::http::Method;
        assert_eq!(Scope::for_method(&Method::GET), Scope::Read);
        assert_eq!(Scope::for_method(&Method::HEAD), Scope::Read);
        for m in [Method::POST, Method::PUT, Method::DELETE, Method::PATCH] {
            assert_eq!(Scope::for_method(&m), Scope::Write);
        }
    }
}
