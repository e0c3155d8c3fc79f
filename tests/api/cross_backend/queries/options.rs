//! The generator's other options (`$orderby`, `$select`, `$expand`,
//! `$search`, `$top`, `$skip`) and whole cases for users, `$apply`, roles
//! and groups.

use super::*;

impl<'a> Gen<'a> {
    // -----------------------------------------------------------------------
    // Other options
    // -----------------------------------------------------------------------

    /// 1–3 `$orderby` items; the sort keys when all can be checked.
    pub(super) fn orderby(&mut self) -> (String, Option<Vec<(SortKey, bool)>>) {
        const EXPRESSIONS: [&str; 7] = [
            "status mod 2",
            "concat(culture,name)",
            "substring(name,1,3)",
            "status divby 3",
            "day(lastLogin)",
            "indexof(name,'a')",
            "date(lastLogin)",
        ];
        let n = 1 + self.rng.below(3);
        let mut items = Vec::new();
        let mut keys = Some(Vec::new());
        for _ in 0..n {
            let desc = self.rng.chance(40);
            let text = if self.rng.chance(15) {
                keys = None;
                (*self.rng.pick(&EXPRESSIONS)).to_owned()
            } else {
                let key = *self.rng.pick(&CHECKABLE);
                if let Some(k) = &mut keys {
                    k.push((key, desc));
                }
                key.odata()
            };
            items.push(if desc {
                format!("{text} desc")
            } else if self.rng.chance(20) {
                format!("{text} asc")
            } else {
                text
            });
        }
        (items.join(","), keys)
    }

    pub(super) fn select(&mut self) -> String {
        const SELECTABLE: [&str; 12] = [
            "userKey",
            "name",
            "email",
            "culture",
            "status",
            "isTechnician",
            "isActive",
            "lastLogin",
            "picture",
            "roles",
            "groups",
            "id",
        ];
        let mut s: Vec<&str> = (0..1 + self.rng.below(4))
            .map(|_| *self.rng.pick(&SELECTABLE))
            .collect();
        s.sort();
        s.dedup();
        s.join(",")
    }

    pub(super) fn expand(&mut self) -> String {
        let nav = *self.rng.pick(&["roles", "groups"]);
        let (key, text) = if nav == "roles" {
            ("roleKey", "description")
        } else {
            ("groupKey", "name")
        };
        let one = match self.rng.below(5) {
            0 => format!("{nav}($select={key})"),
            1 => format!("{nav}($orderby={text} desc;$top=2)"),
            2 => format!("{nav}($filter=startswith({key},'s') or contains({text},'ã'))"),
            _ => nav.to_owned(),
        };
        if self.rng.chance(25) {
            format!("{one},{}", if nav == "roles" { "groups" } else { "roles" })
        } else {
            one
        }
    }

    pub(super) fn search_word(&mut self) -> String {
        let name = self.rng.pick(&self.data.names).clone();
        let words: Vec<&str> = name.split(' ').collect();
        let word: String = self
            .rng
            .pick(&words)
            .chars()
            .take(2 + self.rng.below(4))
            .collect();
        let word = self.vary(word);
        if self.rng.chance(20) {
            let tail: String = name.chars().skip(2).take(6).collect();
            format!("\"{}\"", tail.replace('"', ""))
        } else if word.chars().all(char::is_alphabetic) {
            word
        } else {
            format!("\"{}\"", word.replace('"', ""))
        }
    }

    pub(super) fn search(&mut self) -> String {
        let a = self.search_word();
        let b = self.search_word();
        match self.rng.below(5) {
            0 | 1 => a,
            2 => format!("{a} AND {b}"),
            3 => format!("{a} OR {b}"),
            _ => format!("{a} NOT {b}"),
        }
    }

    pub(super) fn top(&mut self) -> Option<String> {
        match self.rng.below(6) {
            0 => Some(self.rng.below(5).to_string()),
            1 => Some((5 + self.rng.below(120)).to_string()),
            2 => Some((100 + self.rng.below(160)).to_string()),
            _ => None,
        }
    }

    pub(super) fn skip(&mut self) -> Option<String> {
        match self.rng.below(8) {
            0 | 1 => Some(self.rng.below(60).to_string()),
            2 => Some((150 + self.rng.below(80)).to_string()),
            _ => None,
        }
    }

    /// A user query with random options.
    pub(super) fn user_case(&mut self) -> Case {
        let endpoint = if self.rng.chance(30) {
            Endpoint::Feed("Users")
        } else {
            Endpoint::Api1Users
        };
        let mut options: Vec<(&str, String)> = Vec::new();
        if self.rng.chance(85) {
            let depth = 1 + self.rng.below(3);
            options.push(("$filter", self.filter(depth)));
        }
        let order = if self.rng.chance(70) {
            let (text, keys) = self.orderby();
            options.push(("$orderby", text));
            keys
        } else {
            // The default order: the key alone.
            Some(Vec::new())
        };
        if let Some(top) = self.top() {
            options.push(("$top", top));
        }
        if let Some(skip) = self.skip() {
            options.push(("$skip", skip));
        }
        if self.rng.chance(30) {
            options.push(("$select", self.select()));
        }
        let mut order = order;
        if self.rng.chance(20) {
            let expand = self.expand();
            // Expanded roles with nested options no longer show how many
            // roles a user has.
            if expand.contains("roles(") {
                order = order.filter(|keys| keys.iter().all(|(k, _)| *k != SortKey::RoleCount));
            }
            options.push(("$expand", expand));
        }
        if self.rng.chance(15) {
            options.push(("$search", self.search()));
        }
        if self.rng.chance(35) {
            let inline = endpoint == Endpoint::Api1Users && self.rng.chance(30);
            if inline {
                options.push(("$inlinecount", "allpages".to_owned()));
            } else {
                options.push(("$count", "true".to_owned()));
            }
        }
        Case::from_options(endpoint, &options, order)
    }

    /// `$apply` with `groupby`/`aggregate` over the users.
    pub(super) fn apply_case(&mut self) -> Case {
        const KEYS: [&str; 4] = ["status", "culture", "isTechnician", "isActive"];
        const AGGREGATES: [&str; 11] = [
            "$count as n",
            "status with sum as total",
            "status with min as lowest",
            "status with max as highest",
            "status with average as mean",
            "lastLogin with max as latest",
            "lastLogin with min as earliest",
            "name with min as firstName",
            "name with max as lastName",
            "email with countdistinct as emails",
            "culture with countdistinct as cultures",
        ];
        let endpoint = if self.rng.chance(60) {
            Endpoint::Feed("Users")
        } else {
            Endpoint::Api1Users
        };
        let mut aggregates: Vec<&str> = (0..1 + self.rng.below(3))
            .map(|_| *self.rng.pick(&AGGREGATES))
            .collect();
        aggregates.sort();
        aggregates.dedup();
        let aggregate = format!("aggregate({})", aggregates.join(","));
        let mut steps = Vec::new();
        if self.rng.chance(40) {
            steps.push(format!("filter({})", self.filter(1)));
        }
        if self.rng.chance(15) {
            steps.push(aggregate);
        } else {
            let mut keys: Vec<&str> = (0..1 + self.rng.below(2))
                .map(|_| *self.rng.pick(&KEYS))
                .collect();
            keys.dedup();
            steps.push(format!("groupby(({}),{aggregate})", keys.join(",")));
        }
        let mut options = vec![("$apply", steps.join("/"))];
        if self.rng.chance(50) {
            // An aggregate alias first: groups with equal values must still
            // come in one order.
            let alias = aggregates[0].rsplit(' ').next().unwrap_or("n").to_owned();
            let dir = if self.rng.chance(50) { " desc" } else { "" };
            options.push(("$orderby", format!("{alias}{dir}")));
        }
        if self.rng.chance(30) {
            options.push(("$top", (1 + self.rng.below(5)).to_string()));
        }
        if self.rng.chance(30) {
            options.push(("$count", "true".to_owned()));
        }
        Case::from_options(endpoint, &options, None)
    }

    /// A query over roles or groups of the feed.
    pub(super) fn role_group_case(&mut self) -> Case {
        let roles = self.rng.chance(50);
        let (set, key, text) = if roles {
            ("Roles", "roleKey", "description")
        } else {
            ("Groups", "groupKey", "name")
        };
        let data: &'a Sample = self.data;
        let values = if roles {
            (&data.role_keys, &data.role_descriptions)
        } else {
            (&data.group_keys, &data.group_names)
        };
        let k = self.rng.pick(values.0).clone();
        let t = self.rng.pick(values.1).clone();
        let user = self.rng.pick(&self.data.names).clone();
        let piece: String = user.chars().take(1 + self.rng.below(3)).collect();
        let filter = match self.rng.below(6) {
            0 => format!("{key} {} {}", self.op(), quote(&self.vary(k))),
            1 => {
                let piece: String = t.to_lowercase().chars().take(2).collect();
                format!("contains(tolower({text}),{})", quote(&piece))
            }
            2 => format!("users/any(u: startswith(u/name,{}))", quote(&piece)),
            3 => "users/all(u: u/status eq 1)".to_owned(),
            4 => format!("users/$count {} {}", self.op(), self.rng.below(30)),
            _ => format!("{text} {} {}", self.op(), quote(&t)),
        };
        let mut options = vec![("$filter", filter)];
        if self.rng.chance(60) {
            let dir = if self.rng.chance(50) { " desc" } else { "" };
            options.push(("$orderby", format!("{text}{dir}")));
        }
        if self.rng.chance(50) {
            let order = *self.rng.pick(&[
                "name",
                "name desc",
                "lastLogin",
                "tolower(name),status desc",
            ]);
            options.push((
                "$expand",
                format!("users($select=userKey,name;$orderby={order};$top=5)"),
            ));
        }
        if self.rng.chance(30) {
            options.push(("$count", "true".to_owned()));
        }
        Case::from_options(Endpoint::Feed(set), &options, None)
    }
}
