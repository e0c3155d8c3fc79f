//! `$expand`.

use super::query::Nested;
use super::{PResult, Parser};
use crate::ast::{Expand, ExpandItem, ExpandSuffix, ExpandTarget, PathSegment};

impl Parser<'_> {
    /// `expandItem *( COMMA expandItem )`
    pub(crate) fn expand_value(&mut self) -> PResult<Expand> {
        let start = self.pos;
        let mut items = Vec::new();
        loop {
            items.push(self.expand_item()?);
            if self.eat(b',') {
                continue;
            }
            break;
        }
        Ok(Expand {
            items,
            span: self.span(start),
        })
    }

    /// `expandItem = "$value" / expandPath / optionallyQualifiedEntityTypeName "/" expandPath`
    pub(crate) fn expand_item(&mut self) -> PResult<ExpandItem> {
        let start = self.pos;
        if self.eat(b'*') {
            let mut is_ref = false;
            let mut options = None;
            if self.rest().starts_with(b"/$ref") {
                self.pos += 5;
                is_ref = true;
            } else if self.at(b'(') {
                options = Some(Box::new(self.nested_options(Nested::Star)?));
            }
            return Ok(ExpandItem {
                target: ExpandTarget::Star { is_ref },
                options,
                span: self.span(start),
            });
        }
        let mut segments = Vec::new();
        let mut suffix = ExpandSuffix::None;
        if self.eat_kw_cs("$value") {
            segments.push(PathSegment::Member {
                name: self.ident_from(start, self.pos),
                key: None,
            });
        } else {
            loop {
                if self.at(b'@') {
                    segments.push(self.annotation_segment()?);
                } else {
                    let id = self.qualified("navigation property")?;
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
                    // `Address/*`: all navigation properties of a complex property.
                    let star_start = self.pos;
                    if self.eat(b'*') {
                        segments.push(PathSegment::Member {
                            name: crate::ast::Ident {
                                name: "*".into(),
                                span: self.span(star_start),
                            },
                            key: None,
                        });
                        if self.rest().starts_with(b"/$ref") {
                            self.pos += 5;
                            suffix = ExpandSuffix::Ref;
                        }
                        let options = if self.at(b'(') && suffix == ExpandSuffix::None {
                            Some(Box::new(self.nested_options(Nested::Star)?))
                        } else {
                            None
                        };
                        return Ok(ExpandItem {
                            target: ExpandTarget::Path { segments, suffix },
                            options,
                            span: self.span(start),
                        });
                    }
                    if self.eat_kw_cs("$ref") {
                        suffix = ExpandSuffix::Ref;
                        break;
                    }
                    if self.eat_kw_cs("$count") {
                        suffix = ExpandSuffix::Count;
                        break;
                    }
                    continue;
                }
                break;
            }
        }
        let nested = match suffix {
            ExpandSuffix::None => Nested::Expand,
            ExpandSuffix::Ref => Nested::ExpandRef,
            ExpandSuffix::Count => Nested::ExpandCount,
        };
        let options = if self.at(b'(') {
            Some(Box::new(self.nested_options(nested)?))
        } else {
            None
        };
        Ok(ExpandItem {
            target: ExpandTarget::Path { segments, suffix },
            options,
            span: self.span(start),
        })
    }
}
