//! The demo tenant's data: the tables of [`crate::sample_data`] (the same
//! cultures, names with accents, mail domains, roles, groups, skewed statuses
//! and membership counts) drawn with a PRNG of its own (xoshiro256**), so
//! the demo data is fixed forever and never shares ids with files that
//! `odata-users generate` writes (those reproduce `gen_users.py` byte for
//! byte; importing them next to the demo tenant must not collide).

use chrono::Duration;
use uuid::Uuid;

use crate::import::{Dataset, GroupRow, LinkRow, RoleRow, UserRow};
use crate::sample_data::tables::{
    CULTURE_NULL_WEIGHT, CULTURES, GROUP_AREAS, GROUP_COUNT_W, GROUP_TEAMS, ROLE_COUNT_W, ROLES,
    STATUS_W,
};
pub use crate::sample_data::{ascii_slug, login_window};

/// The seed of the demo data (42, as `generate`'s default; the random
/// streams differ, and so do the ids).
pub const DEFAULT_SEED: u64 = 42;

/// xoshiro256** seeded through splitmix64: tiny, fast, and fixed forever, so
/// the demo data never changes under a dependency upgrade.
#[derive(Debug, Clone)]
pub struct DemoRng {
    s: [u64; 4],
}

impl DemoRng {
    /// A generator whose whole output is determined by `seed`.
    pub fn new(seed: u64) -> Self {
        let mut x = seed;
        let mut next = || {
            x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        };
        Self {
            s: [next(), next(), next(), next()],
        }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform in `[0, 1)` with 53 bits of precision.
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in `[0, n)`; `n` must be positive. Unbiased (rejection).
    pub fn below(&mut self, n: u64) -> u64 {
        debug_assert!(n > 0);
        let zone = u64::MAX - (u64::MAX % n);
        loop {
            let v = self.next_u64();
            if v < zone {
                return v % n;
            }
        }
    }

    /// An index into `weights`, chosen with probability proportional to its weight.
    pub fn weighted_index(&mut self, weights: &[u32]) -> usize {
        let total: u64 = weights.iter().map(|&w| u64::from(w)).sum();
        let mut pick = self.below(total.max(1));
        for (i, &w) in weights.iter().enumerate() {
            if pick < u64::from(w) {
                return i;
            }
            pick -= u64::from(w);
        }
        weights.len().saturating_sub(1)
    }

    /// One element of a non-empty slice.
    pub fn choose<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }

    /// A random (version 4) UUID drawn from this generator.
    pub fn uuid(&mut self) -> Uuid {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&self.next_u64().to_le_bytes());
        bytes[8..].copy_from_slice(&self.next_u64().to_le_bytes());
        uuid::Builder::from_random_bytes(bytes).into_uuid()
    }
}

/// `k` distinct indexes into `weights`, weighted, without replacement.
fn weighted_sample(rng: &mut DemoRng, weights: &[u32], k: usize) -> Vec<usize> {
    let mut pool: Vec<(usize, u32)> = weights.iter().copied().enumerate().collect();
    let mut out = Vec::with_capacity(k);
    for _ in 0..k.min(pool.len()) {
        let ws: Vec<u32> = pool.iter().map(|p| p.1).collect();
        let i = rng.weighted_index(&ws);
        out.push(pool.remove(i).0);
    }
    out
}

/// `k` distinct indexes in `0..n`, uniformly (partial Fisher-Yates).
fn uniform_sample(rng: &mut DemoRng, n: usize, k: usize) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..n).collect();
    let k = k.min(n);
    for i in 0..k {
        let j = i + rng.below((n - i) as u64) as usize;
        idx.swap(i, j);
    }
    idx.truncate(k);
    idx
}

fn weighted_value<T: Copy>(rng: &mut DemoRng, pairs: &[(T, u32)]) -> T {
    let ws: Vec<u32> = pairs.iter().map(|p| p.1).collect();
    pairs[rng.weighted_index(&ws)].0
}

/// Generates `n` users with the 20 roles and 50 groups of the Python
/// generator, deterministically from `seed`.
pub fn generate(n: usize, seed: u64) -> Dataset {
    let mut rng = DemoRng::new(seed);

    let roles: Vec<RoleRow> = ROLES
        .iter()
        .map(|(key, description, _)| RoleRow {
            id: rng.uuid(),
            role_key: (*key).to_owned(),
            description: Some((*description).to_owned()),
        })
        .collect();
    let role_weights: Vec<u32> = ROLES.iter().map(|r| r.2).collect();

    let mut groups = Vec::with_capacity(GROUP_AREAS.len() * GROUP_TEAMS.len());
    for area in GROUP_AREAS {
        for team in GROUP_TEAMS {
            groups.push(GroupRow {
                id: rng.uuid(),
                group_key: format!("{}-{}", ascii_slug(area), ascii_slug(team)),
                name: Some(format!("{area} {team}")),
            });
        }
    }

    let culture_weights: Vec<u32> = CULTURES
        .iter()
        .map(|c| c.1)
        .chain(std::iter::once(CULTURE_NULL_WEIGHT))
        .collect();
    let (login_from, login_to) = login_window();
    let span_ms = (login_to - login_from).num_milliseconds().max(1) as u64;

    let mut users = Vec::with_capacity(n);
    let mut user_roles = Vec::new();
    let mut user_groups = Vec::new();
    for i in 1..=n {
        let id = rng.uuid();
        let ci = rng.weighted_index(&culture_weights);
        let (culture, _, firsts, lasts, domains) = CULTURES[ci % CULTURES.len()];
        let first = *rng.choose(firsts);
        let mut last = (*rng.choose(lasts)).to_owned();
        if (culture.starts_with("pt") || culture == "es-ES") && rng.unit() < 0.5 {
            // Iberian double surname
            last = format!("{} {last}", rng.choose(lasts));
        }
        let name = format!("{first} {last}");
        let last_word = last.split(' ').next_back().unwrap_or(&last);
        let slug = format!("{}.{}", ascii_slug(first), ascii_slug(last_word));
        let user_key = format!("{slug}.{i}");
        let email = if rng.unit() < 0.05 {
            None
        } else {
            Some(format!("{slug}{i}@{}", rng.choose(domains)))
        };
        let picture_url = (rng.unit() < 0.3)
            .then(|| format!("https://cdn.example.com/avatars/{}.png", id.hyphenated()));
        let status = weighted_value(&mut rng, STATUS_W);
        // mostly consistent with the status
        let is_active = if rng.unit() < 0.98 {
            status == 1
        } else {
            status != 1
        };
        let is_technician = rng.unit() < 0.25;
        let last_login = if matches!(status, 3 | 4) && rng.unit() < 0.9 {
            None // invited users mostly never logged in
        } else {
            let offset = rng.below(span_ms) as i64;
            Some(login_from + Duration::milliseconds(offset))
        };
        users.push(UserRow {
            id,
            user_key,
            name,
            culture: (ci < CULTURES.len()).then(|| culture.to_owned()),
            is_technician,
            last_login,
            email,
            picture_url,
            status,
            is_active,
        });
        let k = weighted_value(&mut rng, ROLE_COUNT_W);
        for r in weighted_sample(&mut rng, &role_weights, k) {
            user_roles.push(LinkRow {
                user_id: id,
                other_id: roles[r].id,
            });
        }
        let k = weighted_value(&mut rng, GROUP_COUNT_W);
        for g in uniform_sample(&mut rng, groups.len(), k) {
            user_groups.push(LinkRow {
                user_id: id,
                other_id: groups[g].id,
            });
        }
    }
    Dataset {
        roles,
        groups,
        users,
        user_roles,
        user_groups,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn same_seed_same_data() {
        assert_eq!(generate(300, 42), generate(300, 42));
    }

    #[test]
    fn different_seed_different_data() {
        assert_ne!(generate(50, 42).users, generate(50, 43).users);
    }

    #[test]
    fn a_prefix_of_the_users_does_not_depend_on_n() {
        let small = generate(20, 7);
        let large = generate(200, 7);
        assert_eq!(small.roles, large.roles);
        assert_eq!(small.groups, large.groups);
        assert_eq!(small.users[..], large.users[..20]);
    }

    #[test]
    fn shape_matches_the_python_generator() {
        let d = generate(2000, DEFAULT_SEED);
        assert_eq!(d.roles.len(), 20);
        assert_eq!(d.groups.len(), 50);
        assert_eq!(d.users.len(), 2000);
        assert_eq!(d.users[0].user_key.rsplit('.').next(), Some("1"));

        let keys: HashSet<_> = d.users.iter().map(|u| u.user_key.to_lowercase()).collect();
        assert_eq!(keys.len(), d.users.len(), "user keys are unique");
        let emails: Vec<_> = d.users.iter().filter_map(|u| u.email.clone()).collect();
        let distinct: HashSet<_> = emails.iter().map(|e| e.to_lowercase()).collect();
        assert_eq!(distinct.len(), emails.len(), "emails are unique");
        assert!(
            emails.len() > 1800 && emails.len() < 2000,
            "about 5% have none"
        );

        let active = d.users.iter().filter(|u| u.status == 1).count();
        assert!((1200..1600).contains(&active), "about 70% active: {active}");
        assert!(d.users.iter().any(|u| u.status == 4));
        assert!(d.users.iter().any(|u| u.culture.is_none()));
        assert!(d.users.iter().any(|u| !u.name.is_ascii()));
        assert!(d.users.iter().all(|u| u.user_key.is_ascii()));

        let (from, to) = login_window();
        assert!(
            d.users
                .iter()
                .filter_map(|u| u.last_login)
                .all(|t| t >= from && t < to)
        );

        let role_ids: HashSet<_> = d.roles.iter().map(|r| r.id).collect();
        let mut pairs = HashSet::new();
        for link in &d.user_roles {
            assert!(role_ids.contains(&link.other_id));
            assert!(
                pairs.insert((link.user_id, link.other_id)),
                "no duplicate link"
            );
        }
        let group_ids: HashSet<_> = d.groups.iter().map(|g| g.id).collect();
        let mut pairs = HashSet::new();
        for link in &d.user_groups {
            assert!(group_ids.contains(&link.other_id));
            assert!(
                pairs.insert((link.user_id, link.other_id)),
                "no duplicate link"
            );
        }
        // "user" (weight 40) is far more common than "security" (weight 1)
        let count = |key: &str| {
            let id = d.roles.iter().find(|r| r.role_key == key).map(|r| r.id);
            d.user_roles
                .iter()
                .filter(|l| Some(l.other_id) == id)
                .count()
        };
        assert!(count("user") > 5 * count("security"));
    }

    /// The demo data is fixed: the same users, ids, roles and memberships
    /// in every version (a SHA-256 over every field of `generate(300, 42)`).
    #[test]
    fn the_demo_data_does_not_change() {
        use sha2::{Digest, Sha256};
        let d = generate(300, DEFAULT_SEED);
        let mut hash = Sha256::new();
        for r in &d.roles {
            hash.update(format!("{}|{}|{:?}\n", r.id, r.role_key, r.description));
        }
        for g in &d.groups {
            hash.update(format!("{}|{}|{:?}\n", g.id, g.group_key, g.name));
        }
        for u in &d.users {
            hash.update(format!(
                "{}|{}|{}|{:?}|{}|{:?}|{:?}|{:?}|{}|{}\n",
                u.id,
                u.user_key,
                u.name,
                u.culture,
                u.is_technician,
                u.last_login.map(|t| t.timestamp_millis()),
                u.email,
                u.picture_url,
                u.status,
                u.is_active
            ));
        }
        for l in d.user_roles.iter().chain(&d.user_groups) {
            hash.update(format!("{}|{}\n", l.user_id, l.other_id));
        }
        let hex: String = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "d3af0251aedceb2ec02c88c01073283a4bd5bff371cc4a24e79d4e775d5e75ae"
        );
    }

    #[test]
    fn weighted_index_never_picks_zero_weight() {
        let mut rng = DemoRng::new(1);
        for _ in 0..1000 {
            assert_ne!(rng.weighted_index(&[0, 5, 0, 3]) % 2, 0);
        }
    }
}
