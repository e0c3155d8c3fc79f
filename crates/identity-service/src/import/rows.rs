//! CSV files -> validated rows. Pure: no database, so every check that can be
//! made on the file alone is made here, with the file, line and column of the
//! first offending field.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::io::Read;

use uuid::Uuid;

use super::fields;
use super::{GroupRow, ImportError, LinkRow, RoleRow, UserRow};

/// An open CSV file: its header mapped to column positions.
struct Table<R: Read> {
    file: String,
    reader: csv::Reader<R>,
    headers: Vec<String>,
}

/// A column of a file, located by its header name.
#[derive(Clone, Copy)]
struct Col {
    index: usize,
}

impl<R: Read> Table<R> {
    fn open(file: &str, input: R) -> Result<Self, ImportError> {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .from_reader(input);
        let headers = reader
            .headers()
            .map_err(|e| csv_error(file, &e))?
            .iter()
            .enumerate()
            .map(|(i, h)| {
                let h = if i == 0 {
                    h.trim_start_matches('\u{feff}')
                } else {
                    h
                };
                h.trim().to_owned()
            })
            .collect();
        Ok(Self {
            file: file.to_owned(),
            reader,
            headers,
        })
    }

    /// The column named `name` (case-insensitive), if the header has it.
    fn optional(&self, name: &str) -> Option<Col> {
        self.headers
            .iter()
            .position(|h| h.eq_ignore_ascii_case(name))
            .map(|index| Col { index })
    }

    fn required(&self, name: &str) -> Result<Col, ImportError> {
        self.optional(name).ok_or_else(|| ImportError::Header {
            file: self.file.clone(),
            message: format!(
                "the header has no column '{name}' (found: {})",
                self.headers.join(", ")
            ),
        })
    }

    /// Calls `each` with every data record and its line number.
    fn for_each(
        &mut self,
        mut each: impl FnMut(&Record<'_>) -> Result<(), ImportError>,
    ) -> Result<(), ImportError> {
        let mut record = csv::StringRecord::new();
        loop {
            match self.reader.read_record(&mut record) {
                Ok(false) => return Ok(()),
                Ok(true) => {
                    let line = record.position().map_or(0, csv::Position::line);
                    each(&Record {
                        file: &self.file,
                        headers: &self.headers,
                        record: &record,
                        line,
                    })?;
                }
                Err(e) => return Err(csv_error(&self.file, &e)),
            }
        }
    }
}

fn csv_error(file: &str, e: &csv::Error) -> ImportError {
    match e.position() {
        Some(pos) => ImportError::Syntax {
            file: file.to_owned(),
            line: pos.line(),
            message: e.to_string(),
        },
        None => ImportError::Header {
            file: file.to_owned(),
            message: e.to_string(),
        },
    }
}

/// One data record while it is being checked.
struct Record<'a> {
    file: &'a str,
    headers: &'a [String],
    record: &'a csv::StringRecord,
    line: u64,
}

impl Record<'_> {
    fn raw(&self, col: Col) -> &str {
        self.record.get(col.index).unwrap_or("")
    }

    fn error(&self, col: Col, message: impl Into<String>) -> ImportError {
        ImportError::Field {
            file: self.file.to_owned(),
            line: self.line,
            column: col.index + 1,
            header: self.headers.get(col.index).cloned().unwrap_or_default(),
            message: message.into(),
        }
    }

    /// A required field, checked by `check`.
    fn field<T>(&self, col: Col, check: fn(&str) -> Result<T, String>) -> Result<T, ImportError> {
        let raw = self.raw(col);
        if raw.is_empty() {
            return Err(self.error(col, "a value is required"));
        }
        check(raw).map_err(|m| self.error(col, m))
    }

    /// An optional field: absent column or empty value = `None`.
    fn opt<T>(
        &self,
        col: Option<Col>,
        check: fn(&str) -> Result<T, String>,
    ) -> Result<Option<T>, ImportError> {
        match col {
            Some(col) if !self.raw(col).is_empty() => check(self.raw(col))
                .map(Some)
                .map_err(|m| self.error(col, m)),
            _ => Ok(None),
        }
    }
}

/// Remembers the line where each unique value was first seen.
struct Unique {
    what: &'static str,
    seen: HashMap<String, u64>,
}

impl Unique {
    fn new(what: &'static str) -> Self {
        Self {
            what,
            seen: HashMap::new(),
        }
    }

    fn check(&mut self, rec: &Record<'_>, col: Col, value: String) -> Result<(), ImportError> {
        match self.seen.entry(value) {
            Entry::Occupied(first) => Err(rec.error(
                col,
                format!(
                    "duplicate {} '{}' (first on line {})",
                    self.what,
                    rec.raw(col),
                    first.get()
                ),
            )),
            Entry::Vacant(slot) => {
                slot.insert(rec.line);
                Ok(())
            }
        }
    }
}

/// The id of a row: the `ID` column when there is one, else a new random id.
fn row_id(rec: &Record<'_>, col: Option<Col>, ids: &mut Unique) -> Result<Uuid, ImportError> {
    match col {
        Some(col) => {
            let id = rec.field(col, fields::guid)?;
            ids.check(rec, col, id.to_string())?;
            Ok(id)
        }
        None => Ok(Uuid::new_v4()),
    }
}

/// A parsed file: its rows and the line each came from (for later errors).
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed<T> {
    pub rows: Vec<T>,
    pub lines: Vec<u64>,
    /// The header, trimmed, to name columns in later errors.
    pub headers: Vec<String>,
}

impl<T> Parsed<T> {
    fn new<R: Read>(table: &Table<R>) -> Self {
        Self {
            rows: Vec::new(),
            lines: Vec::new(),
            headers: table.headers.clone(),
        }
    }

    /// The 1-based position and the spelling of column `name` in the header.
    pub fn column(&self, name: &str) -> (usize, String) {
        self.headers
            .iter()
            .position(|h| h.eq_ignore_ascii_case(name))
            .map_or((0, name.to_owned()), |i| (i + 1, self.headers[i].clone()))
    }

    fn push(&mut self, row: T, line: u64) {
        self.rows.push(row);
        self.lines.push(line);
    }
}

/// `peer.users-Users.csv`: `ID, userKey, name, culture, isTechnician,
/// lastLogin, email, picture, status, isActive` (only `userKey` and `name`
/// are required columns; `ID` is generated when the column is absent).
pub fn parse_users(file: &str, input: impl Read) -> Result<Parsed<UserRow>, ImportError> {
    let mut t = Table::open(file, input)?;
    let id = t.optional("ID");
    let user_key = t.required("userKey")?;
    let name = t.required("name")?;
    let culture = t.optional("culture");
    let is_technician = t.optional("isTechnician");
    let last_login = t.optional("lastLogin");
    let email = t.optional("email");
    let picture = t.optional("picture");
    let status = t.optional("status");
    let is_active = t.optional("isActive");

    let mut ids = Unique::new("ID");
    let mut keys = Unique::new("userKey");
    let mut emails = Unique::new("email");
    let mut out = Parsed::new(&t);
    t.for_each(|rec| {
        let row = UserRow {
            id: row_id(rec, id, &mut ids)?,
            user_key: rec.field(user_key, fields::key)?,
            name: rec.field(name, fields::user_name)?,
            culture: rec.opt(culture, fields::culture)?,
            is_technician: rec.opt(is_technician, fields::boolean)?.unwrap_or(false),
            last_login: rec.opt(last_login, fields::timestamp)?,
            email: rec.opt(email, fields::email)?,
            picture_url: rec.opt(picture, fields::picture_url)?,
            status: rec.opt(status, fields::status)?.unwrap_or(1),
            is_active: rec.opt(is_active, fields::boolean)?.unwrap_or(true),
        };
        keys.check(rec, user_key, row.user_key.to_lowercase())?;
        if let (Some(col), Some(e)) = (email, &row.email) {
            emails.check(rec, col, e.to_lowercase())?;
        }
        out.push(row, rec.line);
        Ok(())
    })?;
    Ok(out)
}

/// `peer.users-Roles.csv`: `ID, roleKey, name` (the name is the description).
pub fn parse_roles(file: &str, input: impl Read) -> Result<Parsed<RoleRow>, ImportError> {
    let mut t = Table::open(file, input)?;
    let id = t.optional("ID");
    let role_key = t.required("roleKey")?;
    let description = t.optional("name").or_else(|| t.optional("description"));
    let mut ids = Unique::new("ID");
    let mut keys = Unique::new("roleKey");
    let mut out = Parsed::new(&t);
    t.for_each(|rec| {
        let row = RoleRow {
            id: row_id(rec, id, &mut ids)?,
            role_key: rec.field(role_key, fields::key)?,
            description: rec.opt(description, fields::description)?,
        };
        keys.check(rec, role_key, row.role_key.to_lowercase())?;
        out.push(row, rec.line);
        Ok(())
    })?;
    Ok(out)
}

/// `peer.users-Groups.csv`: `ID, groupKey, name`.
pub fn parse_groups(file: &str, input: impl Read) -> Result<Parsed<GroupRow>, ImportError> {
    let mut t = Table::open(file, input)?;
    let id = t.optional("ID");
    let group_key = t.required("groupKey")?;
    let name = t.optional("name");
    let mut ids = Unique::new("ID");
    let mut keys = Unique::new("groupKey");
    let mut out = Parsed::new(&t);
    t.for_each(|rec| {
        let row = GroupRow {
            id: row_id(rec, id, &mut ids)?,
            group_key: rec.field(group_key, fields::key)?,
            name: rec.opt(name, fields::group_name)?,
        };
        keys.check(rec, group_key, row.group_key.to_lowercase())?;
        out.push(row, rec.line);
        Ok(())
    })?;
    Ok(out)
}

/// A membership file (`user_ID` and `role_ID` or `group_ID`). Each id must be
/// known: `users` / `others` say whether an id exists (in the files being
/// imported or already in the tenant). A repeated pair is an error too.
pub fn parse_links(
    file: &str,
    input: impl Read,
    other_column: &str,
    user_exists: &dyn Fn(&Uuid) -> bool,
    other_exists: &dyn Fn(&Uuid) -> bool,
) -> Result<Parsed<LinkRow>, ImportError> {
    let mut t = Table::open(file, input)?;
    let user = t.required("user_ID")?;
    let other = t.required(other_column)?;
    let mut pairs = Unique::new("membership");
    let mut out = Parsed::new(&t);
    t.for_each(|rec| {
        let user_id = rec.field(user, fields::guid)?;
        if !user_exists(&user_id) {
            return Err(rec.error(user, format!("no user has the ID {user_id}")));
        }
        let other_id = rec.field(other, fields::guid)?;
        if !other_exists(&other_id) {
            return Err(rec.error(
                other,
                format!(
                    "no {} has the ID {other_id}",
                    other_column.trim_end_matches("_ID")
                ),
            ));
        }
        pairs.check(rec, other, format!("{user_id}/{other_id}"))?;
        out.push(LinkRow { user_id, other_id }, rec.line);
        Ok(())
    })?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const USERS: &str = "\
ID,userKey,name,culture,isTechnician,lastLogin,email,picture,status,isActive
0f8fad5b-d9cb-469f-a165-70867728950e,joao.silva.1,João Silva,pt-PT,true,2025-05-01T10:00:00.000Z,joao.silva1@empresa.pt,https://cdn.example.com/avatars/a.png,1,true
7c9e6679-7425-40de-944b-e07fc1f90ae7,ana.costa.2,\"Costa, Ana\",,false,,,,3,false
";

    fn field_error(e: ImportError) -> (u64, usize, String) {
        match e {
            ImportError::Field {
                line,
                column,
                header,
                ..
            } => (line, column, header),
            other => panic!("expected a field error, got {other}"),
        }
    }

    #[test]
    fn parses_users_with_nulls() {
        let parsed = parse_users("u.csv", USERS.as_bytes()).expect("valid file");
        assert_eq!(parsed.lines, vec![2, 3]);
        let [a, b] = &parsed.rows[..] else {
            panic!("two rows")
        };
        assert_eq!(a.user_key, "joao.silva.1");
        assert_eq!(a.name, "João Silva");
        assert_eq!(a.culture.as_deref(), Some("pt-PT"));
        assert!(a.is_technician && a.is_active);
        assert_eq!(
            a.picture_url.as_deref(),
            Some("https://cdn.example.com/avatars/a.png")
        );
        assert_eq!(
            a.last_login.map(|t| t.to_rfc3339()),
            Some("2025-05-01T10:00:00+00:00".into())
        );
        assert_eq!(b.name, "Costa, Ana");
        assert_eq!(
            (b.culture.clone(), b.email.clone(), b.last_login),
            (None, None, None)
        );
        assert_eq!(
            (b.status, b.is_active, b.picture_url.clone()),
            (3, false, None)
        );
    }

    #[test]
    fn names_line_and_column_of_a_bad_field() {
        let bad = USERS.replace("joao.silva1@empresa.pt", "not-an-email");
        let e = parse_users("u.csv", bad.as_bytes()).expect_err("bad email");
        let text = e.to_string();
        assert!(
            text.contains("u.csv") && text.contains("line 2") && text.contains("column 7"),
            "{text}"
        );
        assert_eq!(field_error(e), (2, 7, "email".into()));

        let bad = USERS.replace(",3,false", ",9,false");
        let e = parse_users("u.csv", bad.as_bytes()).expect_err("bad status");
        assert_eq!(field_error(e), (3, 9, "status".into()));

        let bad = USERS.replace("7c9e6679-7425-40de-944b-e07fc1f90ae7", "xyz");
        assert_eq!(
            field_error(parse_users("u.csv", bad.as_bytes()).expect_err("bad id")),
            (3, 1, "ID".into())
        );
    }

    #[test]
    fn duplicates_are_reported_with_the_first_line() {
        let bad = USERS.replace("ana.costa.2", "JOAO.SILVA.1");
        let e = parse_users("u.csv", bad.as_bytes()).expect_err("duplicate key");
        assert!(e.to_string().contains("first on line 2"), "{e}");
        assert_eq!(field_error(e), (3, 2, "userKey".into()));
    }

    #[test]
    fn ragged_rows_and_missing_columns_are_errors() {
        let ragged = format!("{USERS}1,2,3\n");
        match parse_users("u.csv", ragged.as_bytes()) {
            Err(ImportError::Syntax { line, .. }) => assert_eq!(line, 4),
            other => panic!("expected a syntax error, got {other:?}"),
        }
        let no_name = "ID,userKey\n0f8fad5b-d9cb-469f-a165-70867728950e,a\n";
        assert!(matches!(
            parse_users("u.csv", no_name.as_bytes()),
            Err(ImportError::Header { .. })
        ));
    }

    #[test]
    fn roles_groups_and_links() {
        let roles = "ID,roleKey,name\n0f8fad5b-d9cb-469f-a165-70867728950e,admin,Administrator\n";
        let r = parse_roles("r.csv", roles.as_bytes()).expect("roles");
        assert_eq!(r.rows[0].description.as_deref(), Some("Administrator"));
        let groups =
            "\u{feff}ID,groupKey,name\n7c9e6679-7425-40de-944b-e07fc1f90ae7,lisbon-sales,\n";
        let g = parse_groups("g.csv", groups.as_bytes()).expect("groups");
        assert_eq!(g.rows[0].name, None);

        let user = Uuid::parse_str("0f8fad5b-d9cb-469f-a165-70867728950e").expect("uuid");
        let role = Uuid::parse_str("7c9e6679-7425-40de-944b-e07fc1f90ae7").expect("uuid");
        let links = format!("user_ID,role_ID\n{user},{role}\n");
        let is_user = |id: &Uuid| *id == user;
        let is_role = |id: &Uuid| *id == role;
        let l =
            parse_links("l.csv", links.as_bytes(), "role_ID", &is_user, &is_role).expect("links");
        assert_eq!(
            l.rows,
            vec![LinkRow {
                user_id: user,
                other_id: role
            }]
        );

        let unknown = format!("user_ID,role_ID\n{user},{user}\n");
        let e = parse_links("l.csv", unknown.as_bytes(), "role_ID", &is_user, &is_role)
            .expect_err("unknown role");
        assert_eq!(field_error(e), (2, 2, "role_ID".into()));
        let twice = format!("user_ID,role_ID\n{user},{role}\n{user},{role}\n");
        let e = parse_links("l.csv", twice.as_bytes(), "role_ID", &is_user, &is_role)
            .expect_err("duplicate pair");
        assert_eq!(field_error(e), (3, 2, "role_ID".into()));
    }
}
