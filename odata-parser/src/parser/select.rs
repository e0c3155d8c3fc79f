//! `$select`.

use super::query::Nested;
use super::{PResult, Parser};
use crate::ast::{PathSegment, Select, SelectItem};

impl Parser<'_> {
    /// `selectItem *( COMMA selectItem )`
    pub(crate) fn select_value(&mut self) -> PResult<Select> {
        let start = self.pos;
        let mut items = Vec::new();
        loop {
            items.push(self.select_item()?);
            if self.eat(b',') {
                continue;
            }
            break;
        }
        Ok(Select {
            items,
            span: self.span(start),
        })
    }

    /// `selectItem = STAR / allOperationsInSchema / selectProperty / ...`
    ///
    /// A path of properties, type casts, annotations and (qualified)
    /// operation names, with optional nested options at its end.
    fn select_item(&mut self) -> PResult<SelectItem> {
        let start = self.pos;
        if self.eat(b'*') {
            return Ok(SelectItem::Star(self.span(start)));
        }
        let mut segments = Vec::new();
        loop {
            if self.at(b'@') {
                segments.push(self.annotation_segment()?);
            } else {
                let id = self.qualified("property")?;
                // `Namespace.*`
                if segments.is_empty() && self.peek() == Some(b'.') && {
                    let save = self.pos;
                    self.pos += 1;
                    let star = self.eat(b'*');
                    if !star {
                        self.pos = save;
                    }
                    star
                } {
                    return Ok(SelectItem::AllOperations(id));
                }
                if id.name.contains('.') {
                    segments.push(PathSegment::TypeCast(id));
                } else {
                    segments.push(PathSegment::Member {
                        name: id,
                        key: None,
                    });
                }
            }
            if self.peek() == Some(b'/') {
                self.pos += 1;
                continue;
            }
            break;
        }
        // `optionallyQualifiedFunctionName OPEN parameterNames CLOSE`
        if segments.len() == 1 && self.at(b'(') {
            let save = self.pos;
            self.eat(b'(');
            let n = self.ident_len();
            let after = self.b.get(self.pos + n).copied();
            if n > 0
                && matches!(after, Some(b',' | b')' | b'%'))
                && (after != Some(b'%')
                    || self.rest()[n..].starts_with(b"%2C")
                    || self.rest()[n..].starts_with(b"%29"))
            {
                let mut parameters = vec![self.ident("parameter name")?];
                while self.eat(b',') {
                    parameters.push(self.ident("parameter name")?);
                }
                self.expect(b')', "')'")?;
                let name = match segments.pop() {
                    Some(PathSegment::Member { name, .. } | PathSegment::TypeCast(name)) => name,
                    _ => unreachable!("select segments are members or casts"),
                };
                return Ok(SelectItem::Operation {
                    name,
                    parameters,
                    span: self.span(start),
                });
            }
            self.pos = save;
        }
        let options = if self.at(b'(') {
            Some(Box::new(self.nested_options(Nested::Select)?))
        } else {
            None
        };
        Ok(SelectItem::Path {
            segments,
            options,
            span: self.span(start),
        })
    }
}
