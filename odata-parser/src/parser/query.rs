//! Query options: the whole query string and the nested options of
//! `$expand`/`$select` items.

use super::{PResult, Parser};
use crate::ast::*;
use crate::error::{ErrorKind, Limit};

/// The query options this parser knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Opt {
    Filter,
    Select,
    OrderBy,
    Top,
    Skip,
    Count,
    InlineCount,
    Expand,
    Search,
    Compute,
    Apply,
    Levels,
    SkipToken,
    DeltaToken,
    Format,
    SchemaVersion,
    Index,
    Id,
}

impl Opt {
    /// Recognises a system query option name (without `$`, any case).
    pub(crate) fn from_name(name: &str) -> Option<Opt> {
        let mut buf = [0u8; 16];
        if name.len() > buf.len() {
            return None;
        }
        for (i, c) in name.bytes().enumerate() {
            buf[i] = c.to_ascii_lowercase();
        }
        Some(match &buf[..name.len()] {
            b"filter" => Opt::Filter,
            b"select" => Opt::Select,
            b"orderby" => Opt::OrderBy,
            b"top" => Opt::Top,
            b"skip" => Opt::Skip,
            b"count" => Opt::Count,
            b"inlinecount" => Opt::InlineCount,
            b"expand" => Opt::Expand,
            b"search" => Opt::Search,
            b"compute" => Opt::Compute,
            b"apply" => Opt::Apply,
            b"levels" => Opt::Levels,
            b"skiptoken" => Opt::SkipToken,
            b"deltatoken" => Opt::DeltaToken,
            b"format" => Opt::Format,
            b"schemaversion" => Opt::SchemaVersion,
            b"index" => Opt::Index,
            b"id" => Opt::Id,
            _ => return None,
        })
    }

    /// The canonical name, used in errors.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Opt::Filter => "$filter",
            Opt::Select => "$select",
            Opt::OrderBy => "$orderby",
            Opt::Top => "$top",
            Opt::Skip => "$skip",
            Opt::Count => "$count",
            Opt::InlineCount => "$inlinecount",
            Opt::Expand => "$expand",
            Opt::Search => "$search",
            Opt::Compute => "$compute",
            Opt::Apply => "$apply",
            Opt::Levels => "$levels",
            Opt::SkipToken => "$skiptoken",
            Opt::DeltaToken => "$deltatoken",
            Opt::Format => "$format",
            Opt::SchemaVersion => "$schemaversion",
            Opt::Index => "$index",
            Opt::Id => "$id",
        }
    }
}

/// Which options a nested option list accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Nested {
    /// `expandOption` (after a navigation path without `/$ref` or `/$count`).
    Expand,
    /// `expandRefOption` (after `/$ref`).
    ExpandRef,
    /// `expandCountOption` (after `/$count`).
    ExpandCount,
    /// `*( ... )` after a star: only `$levels`.
    Star,
    /// `selectOption`.
    Select,
}

impl Nested {
    fn allows(self, o: Opt) -> bool {
        use Opt::*;
        let count_opts = matches!(o, Filter | Search);
        let ref_opts = count_opts || matches!(o, OrderBy | Skip | Top | Count);
        match self {
            Nested::ExpandCount => count_opts,
            Nested::ExpandRef => ref_opts,
            Nested::Expand => ref_opts || matches!(o, Select | Expand | Compute | Levels | Apply),
            Nested::Star => o == Levels,
            Nested::Select => ref_opts || matches!(o, Compute | Select),
        }
    }
    fn allows_alias(self) -> bool {
        matches!(self, Nested::Expand | Nested::Select)
    }
    fn expected(self) -> &'static str {
        match self {
            Nested::ExpandCount => "$filter or $search",
            Nested::ExpandRef => "$filter, $search, $orderby, $skip, $top or $count",
            Nested::Expand => "expand option",
            Nested::Star => "$levels",
            Nested::Select => "select option",
        }
    }
}

fn is_unreserved(c: u8) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, b'-' | b'.' | b'_' | b'~')
}

fn is_other_delim(c: u8) -> bool {
    matches!(c, b'!' | b'(' | b')' | b'*' | b'+' | b',' | b';')
}

impl Parser<'_> {
    /// Length of a valid `%XX` at `p`.
    fn pct_at(&self, p: usize) -> usize {
        let r = &self.b[p..self.end];
        if r.len() >= 3 && r[0] == b'%' && r[1].is_ascii_hexdigit() && r[2].is_ascii_hexdigit() {
            3
        } else {
            0
        }
    }

    /// Reads `*qchar-no-AMP` (also excluding `=` when `no_eq`); returns its end.
    fn qchars(&mut self, no_eq: bool) -> PResult<()> {
        while let Some(c) = self.peek() {
            let ok = is_unreserved(c)
                || is_other_delim(c)
                || matches!(c, b':' | b'@' | b'/' | b'?' | b'$' | b'\'')
                || (c == b'=' && !no_eq)
                || c >= 0x80;
            if ok {
                self.pos += 1;
            } else if c == b'%' {
                let n = self.pct_at(self.pos);
                if n == 0 {
                    return Err(self.fail("percent-encoded character"));
                }
                self.pos += n;
            } else {
                break;
            }
        }
        Ok(())
    }

    /// `queryOptions = queryOption *( "&" queryOption )`: the whole query
    /// string from `self.pos` to the end of the text.
    pub(crate) fn query_options(&mut self) -> PResult<QueryOptions> {
        let mut q = QueryOptions::default();
        let text_end = self.end;
        if self.pos >= text_end {
            return Ok(q);
        }
        loop {
            let opt_end = self
                .rest()
                .iter()
                .position(|&c| c == b'&')
                .map_or(text_end, |i| self.pos + i);
            self.end = opt_end;
            self.query_option(&mut q)?;
            self.expect_end("'&'")?;
            self.option = None;
            self.end = text_end;
            if self.pos < text_end {
                self.pos += 1; // '&'
                continue;
            }
            break;
        }
        Ok(q)
    }

    /// One `queryOption` within `self.end`.
    fn query_option(&mut self, q: &mut QueryOptions) -> PResult<()> {
        let start = self.pos;
        if self.at(b'@') {
            return self.alias_def(q, start);
        }
        let dollar = self.eat_byte(b'$');
        let name_start = self.pos;
        let name_len = self
            .rest()
            .iter()
            .take_while(|c| c.is_ascii_alphabetic())
            .count();
        let name = self.text(name_start, name_start + name_len);
        let after = self.peek_at(name_len);
        let known = Opt::from_name(name);
        if after != Some(b'=') {
            if dollar {
                if known.is_some() {
                    self.pos = name_start + name_len;
                    return Err(self.fail("'='"));
                }
                return Err(self.unknown_option(start, name_start + name_len));
            }
            return self.custom_option(q, start);
        }
        match known {
            Some(Opt::Levels) | None if dollar => {
                Err(self.unknown_option(start, name_start + name_len))
            }
            Some(Opt::Levels) | None => self.custom_option(q, start),
            Some(opt) => {
                self.pos = name_start + name_len + 1;
                self.option = Some(opt.name());
                self.option_value(opt, q, start)
            }
        }
    }

    /// An unknown `$`-option, named in the error.
    fn unknown_option(&mut self, start: usize, name_end: usize) -> super::Fail {
        let name = self.text(start, name_end).to_string();
        let f = self.hard_error_expected(ErrorKind::UnknownOption, start, "system query option");
        self.set_hard_option(name);
        f
    }

    /// `aliasAndValue = parameterAlias EQ parameterValue`
    fn alias_def(&mut self, q: &mut QueryOptions, start: usize) -> PResult<()> {
        self.eat(b'@');
        let name = self.ident("alias name")?;
        if !self.eat_byte(b'=') {
            return Err(self.fail("'='"));
        }
        self.option = Some("parameter alias");
        let value = self.common_expr()?;
        q.aliases.push(AliasDef {
            name,
            value,
            span: self.span(start),
        });
        Ok(())
    }

    /// `customQueryOption = customName [ EQ customValue ]` (also
    /// `nameAndValue` with a JSON value), kept as written.
    fn custom_option(&mut self, q: &mut QueryOptions, start: usize) -> PResult<()> {
        self.pos = start;
        match self.peek() {
            Some(b'$' | b'@' | b'=') | None => return Err(self.fail("query option")),
            _ => {}
        }
        self.qchars(true)?;
        if self.pos == start {
            return Err(self.fail("query option"));
        }
        let name = self.text(start, self.pos).to_string();
        let mut value = None;
        if self.eat_byte(b'=') {
            let vstart = self.pos;
            self.qchars(false)?;
            if self.pos < self.end {
                // `nameAndValue = parameterName EQ parameterValue` (JSON arrays, objects).
                self.pos = vstart;
                self.option = Some("parameter value");
                self.common_expr()?;
            }
            value = Some(self.text(vstart, self.pos).to_string());
        }
        q.custom.push(CustomOption {
            name,
            value,
            span: self.span(start),
        });
        Ok(())
    }

    /// Stores `slot` or fails if the option was given before.
    fn set_once<T>(&mut self, slot: &mut Option<T>, v: T, at: usize) -> PResult<()> {
        if slot.is_some() && !self.allow_duplicates {
            return Err(self.hard_error(ErrorKind::DuplicateOption, at));
        }
        *slot = Some(v);
        Ok(())
    }

    /// Parses the value of option `opt` (after `=`) into `q`.
    pub(crate) fn option_value(
        &mut self,
        opt: Opt,
        q: &mut QueryOptions,
        at: usize,
    ) -> PResult<()> {
        let start = self.pos;
        match opt {
            Opt::Filter => {
                let e = self.common_expr()?;
                self.set_once(&mut q.filter, e, at)
            }
            Opt::Select => {
                let v = self.select_value()?;
                self.set_once(&mut q.select, v, at)
            }
            Opt::OrderBy => {
                let v = self.orderby_value(false)?;
                self.set_once(&mut q.orderby, v, at)
            }
            Opt::Top | Opt::Skip => {
                let v = self.count64()?;
                let slot = if opt == Opt::Top {
                    &mut q.top
                } else {
                    &mut q.skip
                };
                self.set_once(slot, v, at)
            }
            Opt::Count => {
                let value = if self.eat_kw("true") {
                    true
                } else if self.eat_kw("false") {
                    false
                } else {
                    return Err(self.fail("true or false"));
                };
                let c = CountOption {
                    value,
                    span: self.span(start),
                };
                self.set_once(&mut q.count, c, at)
            }
            Opt::InlineCount => {
                let value = if self.eat_kw("allpages") {
                    true
                } else if self.eat_kw("none") {
                    false
                } else {
                    return Err(self.fail("allpages or none"));
                };
                let c = CountOption {
                    value,
                    span: self.span(start),
                };
                self.set_once(&mut q.count, c, at)
            }
            Opt::Expand => {
                let v = self.expand_value()?;
                self.set_once(&mut q.expand, v, at)
            }
            Opt::Search => {
                let v = self.search_option()?;
                self.set_once(&mut q.search, v, at)
            }
            Opt::Compute => {
                let v = self.compute_value(false)?;
                self.set_once(&mut q.compute, v, at)
            }
            Opt::Apply => {
                let v = self.apply_value()?;
                self.set_once(&mut q.apply, v, at)
            }
            Opt::Levels => {
                let v = if self.eat_kw("max") {
                    Levels::Max
                } else {
                    if !self.peek().is_some_and(|c| (b'1'..=b'9').contains(&c)) {
                        return Err(self.fail("1-9 or max"));
                    }
                    Levels::Depth(self.count64()?.value)
                };
                self.set_once(&mut q.levels, v, at)
            }
            Opt::SkipToken | Opt::DeltaToken | Opt::Id => {
                self.qchars(false)?;
                if self.pos == start {
                    return Err(self.fail("value"));
                }
                let t = TextOption {
                    value: self.text(start, self.pos).to_string(),
                    span: self.span(start),
                };
                let slot = match opt {
                    Opt::SkipToken => &mut q.skiptoken,
                    Opt::DeltaToken => &mut q.deltatoken,
                    _ => &mut q.id,
                };
                self.set_once(slot, t, at)
            }
            Opt::Format => {
                // "atom" / "json" / "xml" / 1*pchar "/" 1*pchar
                if !(self.eat_kw("json") || self.eat_kw("atom") || self.eat_kw("xml")) {
                    let s = self.pos;
                    self.format_pchars();
                    if self.pos == s {
                        return Err(self.fail("format"));
                    }
                    if !self.eat_byte(b'/') {
                        return Err(self.fail("'/'"));
                    }
                    let s2 = self.pos;
                    self.format_pchars();
                    if self.pos == s2 {
                        return Err(self.fail("media subtype"));
                    }
                }
                let t = TextOption {
                    value: self.text(start, self.pos).to_string(),
                    span: self.span(start),
                };
                self.set_once(&mut q.format, t, at)
            }
            Opt::SchemaVersion => {
                if !self.eat(b'*') {
                    while self.peek().is_some_and(is_unreserved) {
                        self.pos += 1;
                    }
                    if self.pos == start {
                        return Err(self.fail("schema version"));
                    }
                }
                let t = TextOption {
                    value: self.text(start, self.pos).to_string(),
                    span: self.span(start),
                };
                self.set_once(&mut q.schemaversion, t, at)
            }
            Opt::Index => {
                let neg = self.eat_byte(b'-');
                let Some((ds, de)) = self.digits() else {
                    return Err(self.fail("digit"));
                };
                let text = self.text(ds, de);
                let v = text
                    .parse::<i64>()
                    .ok()
                    .and_then(|v| if neg { v.checked_neg() } else { Some(v) });
                let Some(value) = v else {
                    return Err(self.hard_error(ErrorKind::IntegerOverflow, start));
                };
                let i = IndexOption {
                    value,
                    span: self.span(start),
                };
                self.set_once(&mut q.index, i, at)
            }
        }
    }

    /// `pchar` run for `$format` (without `/`).
    fn format_pchars(&mut self) {
        while let Some(c) = self.peek() {
            if is_unreserved(c)
                || is_other_delim(c)
                || matches!(c, b':' | b'@' | b'$' | b'\'' | b'=')
            {
                self.pos += 1;
            } else if c == b'%' && self.pct_at(self.pos) > 0 {
                self.pos += 3;
            } else {
                break;
            }
        }
    }

    /// `1*DIGIT` as a `u64` (`$top`, `$skip`, `$levels`).
    pub(crate) fn count64(&mut self) -> PResult<Count64> {
        let start = self.pos;
        let Some((ds, de)) = self.digits() else {
            return Err(self.fail("digit"));
        };
        match self.text(ds, de).parse::<u64>() {
            Ok(value) => Ok(Count64 {
                value,
                span: self.span(start),
            }),
            Err(_) => Err(self.hard_error_expected(
                ErrorKind::IntegerOverflow,
                start,
                "integer up to 18446744073709551615",
            )),
        }
    }

    /// `OPEN option *( SEMI option ) CLOSE`: nested options of an expand or
    /// select item.
    pub(crate) fn nested_options(&mut self, kind: Nested) -> PResult<QueryOptions> {
        self.expect(b'(', "'('")?;
        self.enter()?;
        self.nested_options += 1;
        let outer_option = self.option;
        let mut q = QueryOptions::default();
        loop {
            let start = self.pos;
            if self.at(b'@') && kind.allows_alias() {
                self.eat(b'@');
                let name = self.ident("alias name")?;
                if !self.eat_byte(b'=') {
                    return Err(self.fail("'='"));
                }
                let value = self.common_expr()?;
                q.aliases.push(AliasDef {
                    name,
                    value,
                    span: self.span(start),
                });
            } else {
                self.eat_byte(b'$');
                let n = self
                    .rest()
                    .iter()
                    .take_while(|c| c.is_ascii_alphabetic())
                    .count();
                let opt = Opt::from_name(self.text(self.pos, self.pos + n));
                match opt {
                    Some(o) if kind.allows(o) && self.peek_at(n) == Some(b'=') => {
                        if o == Opt::Expand {
                            self.expand_depth += 1;
                            if self.expand_depth > self.opts.max_expand_depth {
                                return Err(self.hard_error(
                                    ErrorKind::LimitExceeded(Limit::ExpandDepth),
                                    start,
                                ));
                            }
                        }
                        self.pos += n + 1;
                        self.option = Some(o.name());
                        self.option_value(o, &mut q, start)?;
                        if o == Opt::Expand {
                            self.expand_depth -= 1;
                        }
                    }
                    _ => {
                        self.pos = start;
                        return Err(self.fail(kind.expected()));
                    }
                }
            }
            if self.eat(b';') {
                continue;
            }
            break;
        }
        self.option = outer_option;
        self.expect(b')', "')'")?;
        self.nested_options -= 1;
        self.leave();
        Ok(q)
    }
}
