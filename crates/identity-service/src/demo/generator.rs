//! A deterministic port of `shared/data/gen_users.py`: the same cultures,
//! names with accents, mail domains, roles, groups, skewed statuses and
//! membership counts. It uses its own small PRNG (xoshiro256**) so the same
//! seed gives the same data on every platform and every version of `rand`;
//! it does not reproduce the Python files byte for byte (that would need
//! Python's Mersenne Twister and its sampling algorithms), only their shape.

use chrono::{DateTime, Duration, TimeZone, Utc};
use uuid::Uuid;

use crate::import::{Dataset, GroupRow, LinkRow, RoleRow, UserRow};

/// (culture, weight, first names, last names, mail domains)
type Culture = (
    &'static str,
    u32,
    &'static [&'static str],
    &'static [&'static str],
    &'static [&'static str],
);

const CULTURES: &[Culture] = &[
    (
        "pt-PT",
        30,
        &[
            "João",
            "Maria",
            "Ana",
            "Pedro",
            "Tiago",
            "Inês",
            "Rui",
            "Beatriz",
            "Miguel",
            "Catarina",
            "Francisco",
            "Sofia",
            "Gonçalo",
            "Mariana",
            "Diogo",
            "Rita",
            "Nuno",
            "Joana",
            "André",
            "Carla",
            "Ricardo",
            "Marta",
            "Luís",
            "Sara",
            "Bruno",
            "Helena",
            "Hugo",
            "Patrícia",
            "Filipe",
            "Teresa",
        ],
        &[
            "Silva",
            "Santos",
            "Ferreira",
            "Pereira",
            "Oliveira",
            "Costa",
            "Rodrigues",
            "Martins",
            "Jesus",
            "Sousa",
            "Fernandes",
            "Gonçalves",
            "Gomes",
            "Lopes",
            "Marques",
            "Alves",
            "Almeida",
            "Ribeiro",
            "Pinto",
            "Carvalho",
            "Teixeira",
            "Moreira",
            "Correia",
            "Mendes",
            "Nunes",
            "Soares",
            "Vieira",
            "Monteiro",
            "Cardoso",
            "Rocha",
        ],
        &["empresa.pt", "mail.pt", "sapo.pt", "example.pt"],
    ),
    (
        "pt-BR",
        8,
        &[
            "Lucas",
            "Gabriel",
            "Júlia",
            "Larissa",
            "Matheus",
            "Fernanda",
            "Rafael",
            "Camila",
            "Gustavo",
            "Letícia",
            "Felipe",
            "Amanda",
            "Thiago",
            "Bruna",
            "Vinícius",
            "Aline",
        ],
        &[
            "Silva",
            "Souza",
            "Oliveira",
            "Lima",
            "Araújo",
            "Barbosa",
            "Ribeiro",
            "Carvalho",
            "Cavalcanti",
            "Nascimento",
            "Moura",
            "Freitas",
            "Azevedo",
            "Batista",
            "Dias",
            "Castro",
        ],
        &["empresa.com.br", "mail.com.br", "example.com.br"],
    ),
    (
        "en-US",
        22,
        &[
            "James",
            "Mary",
            "John",
            "Patricia",
            "Robert",
            "Jennifer",
            "Michael",
            "Linda",
            "William",
            "Elizabeth",
            "David",
            "Barbara",
            "Richard",
            "Susan",
            "Joseph",
            "Jessica",
            "Thomas",
            "Sarah",
            "Christopher",
            "Karen",
            "Daniel",
            "Nancy",
            "Matthew",
            "Lisa",
            "Anthony",
            "Emily",
        ],
        &[
            "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis",
            "Wilson", "Anderson", "Taylor", "Thomas", "Moore", "Jackson", "Martin", "Lee",
            "Thompson", "White", "Harris", "Clark", "Lewis", "Robinson", "Walker", "Young",
            "Allen", "King",
        ],
        &["example.com", "corp.com", "mail.com", "company.us"],
    ),
    (
        "en-GB",
        8,
        &[
            "Oliver", "Amelia", "George", "Isla", "Harry", "Ava", "Jack", "Olivia", "Charlie",
            "Emily", "Alfie", "Poppy", "Freddie", "Lily",
        ],
        &[
            "Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Evans", "Thomas",
            "Roberts", "Walker", "Wright", "Hughes", "Edwards", "Green",
        ],
        &["example.co.uk", "mail.co.uk", "company.co.uk"],
    ),
    (
        "es-ES",
        14,
        &[
            "Antonio",
            "María",
            "Manuel",
            "Carmen",
            "José",
            "Josefa",
            "Francisco",
            "Isabel",
            "David",
            "Laura",
            "Juan",
            "Cristina",
            "Javier",
            "Marta",
            "Daniel",
            "Lucía",
            "Alejandro",
            "Paula",
            "Sergio",
            "Elena",
        ],
        &[
            "García",
            "Rodríguez",
            "González",
            "Fernández",
            "López",
            "Martínez",
            "Sánchez",
            "Pérez",
            "Gómez",
            "Martín",
            "Jiménez",
            "Ruiz",
            "Hernández",
            "Díaz",
            "Moreno",
            "Muñoz",
            "Álvarez",
            "Romero",
            "Alonso",
            "Gutiérrez",
            "Silva",
        ],
        &["empresa.es", "correo.es", "example.es"],
    ),
    (
        "fr-FR",
        10,
        &[
            "Jean",
            "Marie",
            "Pierre",
            "Nathalie",
            "Michel",
            "Isabelle",
            "Philippe",
            "Sylvie",
            "Alain",
            "Catherine",
            "Nicolas",
            "Françoise",
            "Julien",
            "Céline",
            "Thomas",
            "Camille",
            "Hélène",
            "François",
            "Léa",
            "Théo",
        ],
        &[
            "Martin",
            "Bernard",
            "Dubois",
            "Thomas",
            "Robert",
            "Richard",
            "Petit",
            "Durand",
            "Leroy",
            "Moreau",
            "Simon",
            "Laurent",
            "Lefèbvre",
            "Michel",
            "Garcia",
            "David",
            "Bertrand",
            "Roux",
            "Fournier",
            "Girard",
        ],
        &["entreprise.fr", "courriel.fr", "example.fr"],
    ),
    (
        "de-DE",
        5,
        &[
            "Lukas",
            "Anna",
            "Leon",
            "Lena",
            "Jonas",
            "Hannah",
            "Felix",
            "Lea",
            "Maximilian",
            "Mia",
            "Paul",
            "Laura",
            "Jürgen",
            "Jörg",
        ],
        &[
            "Müller",
            "Schmidt",
            "Schneider",
            "Fischer",
            "Weber",
            "Meyer",
            "Wagner",
            "Becker",
            "Schulz",
            "Hoffmann",
            "Schäfer",
            "Koch",
            "Bauer",
            "Richter",
        ],
        &["firma.de", "example.de", "mail.de"],
    ),
    (
        "it-IT",
        3,
        &[
            "Giuseppe",
            "Giulia",
            "Marco",
            "Francesca",
            "Alessandro",
            "Chiara",
            "Luca",
            "Sara",
            "Matteo",
            "Valentina",
            "Lorenzo",
            "Martina",
        ],
        &[
            "Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci",
            "Marino", "Greco", "Bruno", "Gallo",
        ],
        &["azienda.it", "example.it", "posta.it"],
    ),
];

/// Some users have no culture set (NULL).
const CULTURE_NULL_WEIGHT: u32 = 5;

/// (roleKey, description, weight when picking roles for a user)
const ROLES: &[(&str, &str, u32)] = &[
    ("admin", "Administrator", 3),
    ("user", "User", 40),
    ("technician", "Technician", 12),
    ("manager", "Manager", 6),
    ("auditor", "Auditor", 3),
    ("reporter", "Reporter", 8),
    ("viewer", "Viewer", 20),
    ("editor", "Editor", 10),
    ("approver", "Approver", 5),
    ("dispatcher", "Dispatcher", 4),
    ("planner", "Planner", 5),
    ("supervisor", "Supervisor", 4),
    ("support", "Support Agent", 8),
    ("billing", "Billing", 3),
    ("hr", "Human Resources", 2),
    ("inventory", "Inventory Clerk", 4),
    ("sales", "Sales", 6),
    ("guest", "Guest", 5),
    ("integration", "Integration (API)", 1),
    ("security", "Security Officer", 1),
];

const GROUP_AREAS: &[&str] = &[
    "Lisbon",
    "Porto",
    "Madrid",
    "Paris",
    "London",
    "New York",
    "Berlin",
    "Milan",
    "São Paulo",
    "Barcelona",
];
const GROUP_TEAMS: &[&str] = &[
    "Field Service",
    "Help Desk",
    "Operations",
    "Maintenance",
    "Sales",
];

/// Active, Inactive, InvitationSent, InvitationExpired.
const STATUS_W: &[(i32, u32)] = &[(1, 70), (2, 15), (3, 10), (4, 5)];
/// 0-5 roles per user.
const ROLE_COUNT_W: &[(usize, u32)] = &[(0, 8), (1, 30), (2, 27), (3, 18), (4, 11), (5, 6)];
/// 0-3 groups per user.
const GROUP_COUNT_W: &[(usize, u32)] = &[(0, 15), (1, 45), (2, 28), (3, 12)];

/// The seed the demo data uses (the Python generator's default too).
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

/// Folds the accented Latin letters the name lists use to ASCII, drops any
/// other non-ASCII character, keeps lower-case alphanumerics only (the
/// Python generator's NFKD + `encode("ascii", "ignore")` + `isalnum`).
pub fn ascii_slug(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars().flat_map(char::to_lowercase) {
        let base = match c {
            'á' | 'à' | 'â' | 'ã' | 'ä' | 'å' => 'a',
            'ç' => 'c',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'í' | 'ì' | 'î' | 'ï' => 'i',
            'ñ' => 'n',
            'ó' | 'ò' | 'ô' | 'õ' | 'ö' => 'o',
            'ú' | 'ù' | 'û' | 'ü' => 'u',
            'ý' | 'ÿ' => 'y',
            c => c,
        };
        if base.is_ascii_alphanumeric() {
            out.push(base);
        }
    }
    out
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
    let login_from = Utc
        .with_ymd_and_hms(2024, 11, 1, 0, 0, 0)
        .single()
        .unwrap_or_default();
    let login_to = Utc
        .with_ymd_and_hms(2026, 11, 1, 0, 0, 0)
        .single()
        .unwrap_or_default();
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

/// The login window of the generated data, for tests.
pub fn login_window() -> (DateTime<Utc>, DateTime<Utc>) {
    (
        Utc.with_ymd_and_hms(2024, 11, 1, 0, 0, 0)
            .single()
            .unwrap_or_default(),
        Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0)
            .single()
            .unwrap_or_default(),
    )
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

    #[test]
    fn slugs_fold_accents() {
        assert_eq!(ascii_slug("São Paulo"), "saopaulo");
        assert_eq!(ascii_slug("Gonçalves"), "goncalves");
        assert_eq!(ascii_slug("Álvarez"), "alvarez");
        assert_eq!(ascii_slug("Jürgen"), "jurgen");
        assert_eq!(ascii_slug("Integration (API)"), "integrationapi");
    }

    #[test]
    fn weighted_index_never_picks_zero_weight() {
        let mut rng = DemoRng::new(1);
        for _ in 0..1000 {
            assert_ne!(rng.weighted_index(&[0, 5, 0, 3]) % 2, 0);
        }
    }
}
