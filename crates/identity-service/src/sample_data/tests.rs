use std::collections::HashSet;

use sha2::{Digest, Sha256};

use super::*;

/// SHA-256 of the five files `python3 gen_users.py N DIR --seed S` (CPython
/// 3.11, the script of the peer comparison) wrote, in the order users,
/// roles, groups, user roles, user groups.
const PYTHON_300_SEED_42: [&str; 5] = [
    "b713a8f16bb556a17fe5c72b267c793e7f63374ca74bd7bb152762bf044159a3",
    "d0af385eada5135184845dda2a9e32508d2c352a9d6a30ab14b8ecf539d32755",
    "89d98077342cb499ab62ec2654566d33948bdf912be6f973a40e4441cd793843",
    "c3352a67ea9a9e0b8fa76617c02c264863d27beb0b62e41fa987b1fdb7f1cf8a",
    "78ff4ea2eabaee11424ddaf1e0a8212046782e5b1737c2a34f432912a5b9c6d0",
];
const PYTHON_1000_SEED_7: [&str; 5] = [
    "1efc631f6d5174c81125cec84fddcc943b318a9fc0849e1df4545d75a9c914df",
    "0f403452710ed24f907ffa31db2494294fd9b8fbbd2b47a967c8a76befad55cf",
    "7db1502397ec06ba5ba6ff521cc2746c4dd8594d34ed141cf55a8a58f6b3299c",
    "f8245f2c27194f8f49f02a1ab3d15e980e5218301c09170b344fc554d6377ceb",
    "710ae165b7a4a94490f4645e67f8423f472a37a7c9301054da3640437454c3eb",
];
const PYTHON_5_SEED_0: [&str; 5] = [
    "6637442623a2ba100c712359895d56babd876c558469bd403d5853f121266045",
    "52cf24361a4f3a70fe823832bb97104c715c46843695160e1f01e04bf5d3d5e5",
    "fd61f826360c8f00256ad0cb274ee890d21c40489dfb12395df897eae702e584",
    "91eab30a9b85d66cf70ba9aaae68182ec624cb3a40678c12897bee0b5669fca9",
    "421ca8cadddac1df28da6a458c2c6fcae67780441f840ac99d54398dff7237d4",
];

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn hashes(count: usize, seed: u64) -> ([String; 5], Written) {
    let mut files = CsvFiles {
        users: Vec::new(),
        roles: Vec::new(),
        groups: Vec::new(),
        user_roles: Vec::new(),
        user_groups: Vec::new(),
    };
    let written = write_csv(count, seed, &mut files).expect("writing into memory");
    let hashes = [
        &files.users,
        &files.roles,
        &files.groups,
        &files.user_roles,
        &files.user_groups,
    ]
    .map(|bytes| sha256_hex(bytes));
    (hashes, written)
}

#[test]
fn the_files_are_byte_identical_to_the_python_generator() {
    for (count, seed, expected, roles, groups) in [
        (300, 42, PYTHON_300_SEED_42, 624, 425),
        (1000, 7, PYTHON_1000_SEED_7, 2132, 1367),
        (5, 0, PYTHON_5_SEED_0, 7, 4),
    ] {
        let (actual, written) = hashes(count, seed);
        assert_eq!(actual, expected, "{count} users, seed {seed}");
        // The script's summary line for the same call.
        assert_eq!(
            (written.users, written.roles, written.groups),
            (count, 20, 50)
        );
        assert_eq!((written.user_roles, written.user_groups), (roles, groups));
    }
}

#[test]
fn write_dir_writes_the_five_files_the_importer_reads() {
    let dir = std::env::temp_dir().join(format!("sample-data-{}", std::process::id()));
    let written = write_dir(&dir, 300, 42).expect("write_dir");
    assert_eq!(written.users, 300);
    let on_disk: Vec<String> = [
        USERS_FILE,
        ROLES_FILE,
        GROUPS_FILE,
        USER_ROLES_FILE,
        USER_GROUPS_FILE,
    ]
    .iter()
    .map(|name| sha256_hex(&std::fs::read(dir.join(name)).expect("read back")))
    .collect();
    assert_eq!(on_disk, PYTHON_300_SEED_42);
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_dataset_holds_what_the_files_hold() {
    let data = generate(1000, 7);
    let mut files = CsvFiles {
        users: Vec::new(),
        roles: Vec::new(),
        groups: Vec::new(),
        user_roles: Vec::new(),
        user_groups: Vec::new(),
    };
    write_csv(1000, 7, &mut files).expect("write");
    let users = String::from_utf8(files.users).expect("utf-8");
    let lines: Vec<&str> = users.lines().skip(1).collect();
    assert_eq!(lines.len(), data.users.len());
    for (line, user) in lines.iter().zip(&data.users) {
        assert!(line.starts_with(&format!("{},{},", user.id, user.user_key)));
    }
    assert_eq!(
        String::from_utf8(files.user_roles)
            .expect("utf-8")
            .lines()
            .count(),
        data.user_roles.len() + 1
    );
}

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
fn zero_users_still_writes_roles_and_groups() {
    let data = generate(0, DEFAULT_SEED);
    assert!(data.users.is_empty());
    assert_eq!((data.roles.len(), data.groups.len()), (20, 50));
}

#[test]
fn shape_of_the_data() {
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
    assert_eq!(ascii_slug("Lefèbvre"), "lefebvre");
    assert_eq!(ascii_slug("Integration (API)"), "integrationapi");
    // NFKD decomposes compatibility characters too; what stays non-ASCII
    // is dropped.
    assert_eq!(ascii_slug("ﬁx ½ Ø"), "fix12");
}

#[test]
fn csv_fields_are_quoted_as_python_quotes_them() {
    let mut line = String::new();
    for field in ["plain", "a,b", "say \"hi\"", "", "two\nlines"] {
        push_field(&mut line, field);
    }
    assert_eq!(line, "plain,\"a,b\",\"say \"\"hi\"\"\",,\"two\nlines\"");
}
