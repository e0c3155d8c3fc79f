//! The data every backend loads: `odata-users generate 200` (seed 42) plus hand-written rows
//! that differ only in case or accents (also precomposed against combining
//! accents), carry non-ASCII text (Á, ß, ø, Greek with a final sigma, an
//! emoji outside the BMP), nulls in every nullable column, ties on sortable
//! columns, and `%`, `_` and `'` in names. The generated files are read back
//! into a [`Sample`] so that the query generator picks literals that exist.

use std::path::Path;

/// Users that differ only in case and accents, and other edge cases (fixed
/// ids). Columns: ID, userKey, name, culture, isTechnician, lastLogin, email,
/// picture, status, isActive.
const EXTRA_USERS: &str = "\
00000000-0000-4000-8000-000000000001,case.angela.1,Ángela,pt-PT,false,,,,1,true
00000000-0000-4000-8000-000000000002,case.angela.2,ángela,pt-PT,false,,,,1,true
00000000-0000-4000-8000-000000000003,case.angela.3,ANGELA,pt-PT,false,,,,1,true
00000000-0000-4000-8000-000000000004,case.angela.4,Angela,pt-PT,false,,,,1,true
00000000-0000-4000-8000-000000000005,case.strasse.1,Straße Groß,de-DE,true,2025-03-01T10:00:00.000Z,strasse1@example.de,,1,true
00000000-0000-4000-8000-000000000006,case.strasse.2,STRASSE GROSS,de-DE,false,2025-03-01T10:00:00Z,STRASSE2@EXAMPLE.DE,,2,true
00000000-0000-4000-8000-000000000007,case.strasse.3,strasse groß,,false,2025-03-01T10:00:00.000Z,,,1,false
00000000-0000-4000-8000-000000000008,case.oyvind.1,Øyvind Ørsted,nb-NO,true,2025-12-31T23:59:59.999Z,oyvind.orsted@example.no,,1,true
00000000-0000-4000-8000-000000000009,case.oyvind.2,øyvind ørsted,nb-NO,false,2026-01-01T00:00:00.000Z,,,3,false
00000000-0000-4000-8000-00000000000a,case.oyvind.3,ØYVIND ØRSTED,,false,,Oyvind.3@Example.NO,,4,false
00000000-0000-4000-8000-00000000000b,case.sokratis.1,Σωκράτης Παπαδόπουλος,el-GR,true,2024-02-29T12:00:00.500Z,sokratis@example.gr,,1,true
00000000-0000-4000-8000-00000000000c,case.sokratis.2,ΣΩΚΡΆΤΗΣ ΠΑΠΑΔΌΠΟΥΛΟΣ,el-GR,false,2024-02-29T12:00:00.5Z,,,2,true
00000000-0000-4000-8000-00000000000d,case.zoe.1,Zoë Ñandú,es-ES,false,2026-06-15T08:30:00.250Z,zoe@example.es,,1,true
00000000-0000-4000-8000-00000000000e,case.zoe.2,Zoe Nandu,es-ES,false,2026-06-15T08:30:00.250Z,zoe.nandu@example.es,,1,true
00000000-0000-4000-8000-00000000000f,case.quote,D'Arcy O'Neil,en-IE,true,2025-07-04T00:00:00.000Z,darcy@example.ie,,2,true
00000000-0000-4000-8000-000000000010,case.jose.1,José Niño,es-ES,false,2025-07-04T00:00:00Z,jose@example.es,,1,true
00000000-0000-4000-8000-000000000011,case.jose.2,Jose\u{301} Nin\u{303}o,es-ES,true,,jose.2@example.es,,2,true
00000000-0000-4000-8000-000000000012,case.emoji,Łukasz Żółć 🙂,pl-PL,false,2026-10-31T23:59:59.999Z,lukasz@example.pl,,1,true
ffffffff-ffff-4fff-bfff-ffffffffffff,case.pct,100% Test_User,pt-PT,false,,,,1,true
";

/// A role and a group with non-ASCII keys and names (columns ID, key, name).
const EXTRA_ROLES: &str = "00000000-0000-4000-8000-0000000000a1,Gestão,Gestão de Ativos\n";
const EXTRA_GROUPS: &str = "00000000-0000-4000-8000-0000000000b1,straße-team,Straße Team Øst\n";

/// Memberships of the extra users (user, role) and (user, group).
const EXTRA_USER_ROLES: &str = "\
00000000-0000-4000-8000-000000000001,00000000-0000-4000-8000-0000000000a1
00000000-0000-4000-8000-000000000005,00000000-0000-4000-8000-0000000000a1
00000000-0000-4000-8000-00000000000b,00000000-0000-4000-8000-0000000000a1
";
const EXTRA_USER_GROUPS: &str = "\
00000000-0000-4000-8000-000000000005,00000000-0000-4000-8000-0000000000b1
00000000-0000-4000-8000-000000000006,00000000-0000-4000-8000-0000000000b1
00000000-0000-4000-8000-000000000008,00000000-0000-4000-8000-0000000000b1
";

/// How many users the generator makes.
const GENERATED_USERS: usize = 200;

/// Values present in the data, for the query generator.
#[derive(Debug, Default)]
pub struct Sample {
    pub user_ids: Vec<String>,
    pub user_keys: Vec<String>,
    pub names: Vec<String>,
    /// Non-null e-mails.
    pub emails: Vec<String>,
    /// Non-null cultures.
    pub cultures: Vec<String>,
    /// Non-null lastLogin values as written in the CSV.
    pub last_logins: Vec<String>,
    pub role_keys: Vec<String>,
    pub role_descriptions: Vec<String>,
    pub group_keys: Vec<String>,
    pub group_names: Vec<String>,
}

impl Sample {
    /// Every user, the hand-written ones included.
    pub fn users(&self) -> usize {
        self.user_ids.len()
    }
}

fn append(dir: &Path, file: &str, rows: &str) {
    let path = dir.join(file);
    let mut text =
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str(rows);
    std::fs::write(&path, text).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
}

/// Writes the CSV files into `dir` and returns what they hold.
pub fn generate(dir: &Path) -> Sample {
    identity_service::sample_data::write_dir(
        dir,
        GENERATED_USERS,
        identity_service::sample_data::DEFAULT_SEED,
    )
    .expect("generate the test data");
    append(dir, "peer.users-Users.csv", EXTRA_USERS);
    append(dir, "peer.users-Roles.csv", EXTRA_ROLES);
    append(dir, "peer.users-Groups.csv", EXTRA_GROUPS);
    append(dir, "peer.users-UserRoles.csv", EXTRA_USER_ROLES);
    append(dir, "peer.users-UserGroups.csv", EXTRA_USER_GROUPS);

    let read = |file: &str| -> Vec<Vec<String>> {
        let text = std::fs::read_to_string(dir.join(file))
            .unwrap_or_else(|e| panic!("cannot read {file}: {e}"));
        crate::common::parse_csv(&text)
            .into_iter()
            .skip(1)
            .collect()
    };
    let non_empty = |s: &String| (!s.is_empty()).then(|| s.clone());
    let mut sample = Sample::default();
    for row in read("peer.users-Users.csv") {
        let [id, key, name, culture, _tech, last_login, email, ..] = row.as_slice() else {
            panic!("short users row {row:?}");
        };
        sample.user_ids.push(id.to_lowercase());
        sample.user_keys.push(key.clone());
        sample.names.push(name.clone());
        sample.cultures.extend(non_empty(culture));
        sample.last_logins.extend(non_empty(last_login));
        sample.emails.extend(non_empty(email));
    }
    for row in read("peer.users-Roles.csv") {
        sample.role_keys.push(row[1].clone());
        sample.role_descriptions.push(row[2].clone());
    }
    for row in read("peer.users-Groups.csv") {
        sample.group_keys.push(row[1].clone());
        sample.group_names.push(row[2].clone());
    }
    sample.cultures.sort();
    sample.cultures.dedup();
    assert_eq!(
        sample.users(),
        GENERATED_USERS + EXTRA_USERS.lines().count()
    );
    sample
}
