//! Resource paths (`resourcePath`) and relative URLs (`odataRelativeUri`).
//!
//! Without a model, the many `resourcePath` alternatives collapse into a
//! sequence of segments: names (with key predicates or function
//! parameters), type casts, `$`-segments, and key-as-segment values.

use super::lexical::is_ident_start;
use super::{PResult, Parser};
use crate::ast::*;

impl Parser<'_> {
    /// `resourcePath` (also `$batch`, `$metadata`, `$entity`, `$all`,
    /// `$crossjoin(...)`), from `self.pos` to `self.end`.
    pub(crate) fn resource_path(&mut self) -> PResult<ResourcePath> {
        let start = self.pos;
        let was = self.in_resource_path;
        self.in_resource_path = true;
        let r = self.resource_segments();
        self.in_resource_path = was;
        let segments = r?;
        Ok(ResourcePath {
            segments,
            span: self.span(start),
        })
    }

    fn resource_segments(&mut self) -> PResult<Vec<ResourceSegment>> {
        let mut segs: Vec<ResourceSegment> = Vec::new();
        let mut first = true;
        loop {
            let seg_start = self.pos;
            let seg = self.resource_segment(first)?;
            let terminal = matches!(
                seg,
                ResourceSegment::Count(_)
                    | ResourceSegment::Value(_)
                    | ResourceSegment::Ref(_)
                    | ResourceSegment::Query(_)
                    | ResourceSegment::Metadata(_)
                    | ResourceSegment::Batch(_)
            );
            if let (ResourceSegment::TypeCast(_), Some(ResourceSegment::TypeCast(_))) =
                (&seg, segs.last())
            {
                // A type can be cast to only once in a row.
                return Err(self.fail("'/'"));
            }
            let _ = seg_start;
            segs.push(seg);
            first = false;
            // `Fn(p=1)(2)`: a key predicate after parameters (never after
            // `$ref`, `$count`, `$value`, ...).
            while !terminal && self.at(b'(') {
                let ks = self.pos;
                let key = self.key_predicate()?;
                let expr = match key {
                    KeyPredicate::Single(e) => *e,
                    KeyPredicate::Named(_) => return Err(self.fail_at(ks, "'/'")),
                };
                segs.push(ResourceSegment::KeySegment(expr));
            }
            if self.peek() == Some(b'/') && !terminal {
                self.pos += 1;
                continue;
            }
            break;
        }
        Ok(segs)
    }

    /// End of the current raw segment (next `/` or the end).
    fn segment_end(&self) -> usize {
        self.rest()
            .iter()
            .position(|&c| c == b'/')
            .map_or(self.end, |i| self.pos + i)
    }

    fn resource_segment(&mut self, first: bool) -> PResult<ResourceSegment> {
        let start = self.pos;
        if self.peek() == Some(b'$') {
            for (kw, mk) in [
                (
                    "$count",
                    ResourceSegment::Count as fn(Span) -> ResourceSegment,
                ),
                ("$value", ResourceSegment::Value),
                ("$ref", ResourceSegment::Ref),
                ("$metadata", ResourceSegment::Metadata),
                ("$batch", ResourceSegment::Batch),
                ("$entity", ResourceSegment::Entity),
                ("$all", ResourceSegment::All),
                ("$each", ResourceSegment::Each),
                ("$query", ResourceSegment::Query),
            ] {
                if self.eat_kw_cs(kw) {
                    let root_only = matches!(kw, "$metadata" | "$batch" | "$entity" | "$all");
                    if root_only != first {
                        self.pos = start;
                        return Err(self.fail("path segment"));
                    }
                    return Ok(mk(self.span(start)));
                }
            }
            if first && self.eat_kw_cs("$crossjoin") {
                self.expect(b'(', "'('")?;
                let mut sets = vec![self.ident("entity set")?];
                while self.eat(b',') {
                    sets.push(self.ident("entity set")?);
                }
                self.expect(b')', "')'")?;
                return Ok(ResourceSegment::CrossJoin(sets, self.span(start)));
            }
            if !first && self.eat_kw_cs("$filter") {
                self.expect(b'(', "'('")?;
                let e = self.common_expr()?;
                self.expect(b')', "')'")?;
                return Ok(ResourceSegment::Filter(Box::new(e), self.span(start)));
            }
            return Err(self.fail("path segment"));
        }
        if first {
            // The first segment is an unqualified name.
            let n = self.ident_len();
            if n == 0 {
                return Err(self.fail("entity set, singleton or function import"));
            }
            if self.peek_at(n) == Some(b'.') {
                self.pos += n;
                return Err(self.fail("'(' or '/'"));
            }
            return self.named_segment();
        }
        // Later segments: a name, or a key given as a segment.
        let seg_end = self.segment_end();
        let named = self.peek().is_some_and(is_ident_start) && {
            let n = self.qualified_len();
            let after = self.pos + n;
            after == seg_end || self.b[after] == b'(' || self.rest()[n..].starts_with(b"%28")
        };
        if named {
            return self.named_segment();
        }
        // keyPathLiteral = *pchar: an integer, or the raw text.
        if seg_end == self.pos {
            return Err(self.fail("path segment"));
        }
        for (i, &c) in self.b[self.pos..seg_end].iter().enumerate() {
            if c == b'%' {
                let r = &self.b[self.pos + i..seg_end];
                if r.len() < 3 || !r[1].is_ascii_hexdigit() || !r[2].is_ascii_hexdigit() {
                    return Err(self.fail_at(self.pos + i, "percent-encoded character"));
                }
            }
            let ok = c.is_ascii_alphanumeric()
                || matches!(
                    c,
                    b'-' | b'.'
                        | b'_'
                        | b'~'
                        | b'%'
                        | b'!'
                        | b'$'
                        | b'&'
                        | b'\''
                        | b'('
                        | b')'
                        | b'*'
                        | b'+'
                        | b','
                        | b';'
                        | b'='
                        | b':'
                        | b'@'
                );
            if !ok {
                return Err(self.fail("path segment"));
            }
        }
        let text = self.text(self.pos, seg_end);
        let lit = if text.bytes().all(|c| c.is_ascii_digit())
            || (text.starts_with('-')
                && text.len() > 1
                && text[1..].bytes().all(|c| c.is_ascii_digit()))
        {
            match text.parse::<i64>() {
                Ok(v) => Literal::Integer(v),
                Err(_) => Literal::Decimal(text.to_string()),
            }
        } else {
            Literal::String(text.to_string())
        };
        self.pos = seg_end;
        let e = self.literal_expr(lit, self.span(start))?;
        Ok(ResourceSegment::KeySegment(e))
    }

    fn named_segment(&mut self) -> PResult<ResourceSegment> {
        Ok(match self.path_segment()? {
            PathSegment::Member { name, key } => ResourceSegment::Member { name, key },
            PathSegment::TypeCast(id) => ResourceSegment::TypeCast(id),
            PathSegment::Function { name, params } => ResourceSegment::Function { name, params },
            _ => return Err(self.fail("path segment")),
        })
    }

    /// `odataRelativeUri = resourcePath [ "?" [ queryOptions ] ]` (and the
    /// `$batch`, `$entity`, `$metadata` forms).
    pub(crate) fn relative_uri(&mut self) -> PResult<(ResourcePath, Option<QueryOptions>)> {
        let full_end = self.end;
        let q = self
            .rest()
            .iter()
            .position(|&c| c == b'?')
            .map(|i| self.pos + i);
        self.end = q.unwrap_or(full_end);
        let path = self.resource_path()?;
        self.expect_end("'/' or '?'")?;
        self.end = full_end;
        let is_entity = matches!(path.segments.first(), Some(ResourceSegment::Entity(_)));
        let Some(q) = q else {
            if is_entity {
                return Err(self.fail("'?'"));
            }
            return Ok((path, None));
        };
        self.pos = q + 1;
        let opts = self.query_options()?;
        if is_entity {
            if opts.id.is_none() {
                return Err(self.fail_at(full_end, "$id"));
            }
            let cast = path.segments.len() > 1;
            if !cast {
                let bad = [
                    opts.filter.as_ref().map(|e| e.span),
                    opts.select.as_ref().map(|s| s.span),
                    opts.expand.as_ref().map(|s| s.span),
                    opts.orderby.as_ref().map(|s| s.span),
                ];
                if let Some(span) = bad.into_iter().flatten().min_by_key(|s| s.start) {
                    return Err(self.fail_at(span.start, "$id, $format or a custom option"));
                }
            }
        }
        Ok((path, Some(opts)))
    }
}
