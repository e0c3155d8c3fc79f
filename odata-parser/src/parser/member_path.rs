//! Member paths in expressions: segments, key predicates, function
//! parameters, `/$count` and lambdas (`any`, `all`).

use super::{PResult, Parser};
use crate::ast::*;

impl Parser<'_> {
    /// One member path segment: a property (with optional key predicate),
    /// a type cast, a bound function call or an annotation.
    #[inline]
    pub(crate) fn path_segment(&mut self) -> PResult<PathSegment> {
        if self.at(b'@') {
            return self.annotation_segment();
        }
        let n = self.qualified_len();
        self.path_segment_of_len(n)
    }

    /// [`Parser::path_segment`] when the length of the (qualified) name at
    /// the current position is already known.
    #[inline]
    pub(super) fn path_segment_of_len(&mut self, n: usize) -> PResult<PathSegment> {
        if n == 0 {
            return Err(self.fail("property path"));
        }
        let start = self.pos;
        self.pos += n;
        let id = Ident {
            name: self.text(start, self.pos).to_string(),
            span: self.span(start),
        };
        if id.name.contains('.') {
            if self.at(b'(') && self.at_params() {
                let params = self.function_params()?;
                return Ok(PathSegment::Function { name: id, params });
            }
            return Ok(PathSegment::TypeCast(id));
        }
        if self.at(b'(') {
            // `Name()` is an unqualified function with no parameters.
            let save = self.pos;
            self.eat(b'(');
            self.bws();
            if self.eat(b')') {
                return Ok(PathSegment::Function {
                    name: id,
                    params: Vec::new(),
                });
            }
            self.pos = save;
            let key = self.key_predicate()?;
            return Ok(PathSegment::Member {
                name: id,
                key: Some(key),
            });
        }
        Ok(PathSegment::Member {
            name: id,
            key: None,
        })
    }

    /// Does `( [BWS] )` or `( [BWS] name =` follow (function parameters
    /// rather than a key predicate)?
    fn at_params(&self) -> bool {
        let mut p = self.pos + super::lexical::punct_len(self.rest(), b'(');
        while p < self.end && (self.b[p] == b' ' || self.b[p] == b'\t') {
            p += 1;
        }
        while self.b[p.min(self.end)..self.end].starts_with(b"%20")
            || self.b[p.min(self.end)..self.end].starts_with(b"%09")
        {
            p += 3;
        }
        if super::lexical::punct_len(&self.b[p.min(self.end)..self.end], b')') > 0 {
            return true;
        }
        let n = self.ident_len_at(p);
        n > 0 && self.b.get(p + n) == Some(&b'=') && p + n < self.end
    }

    /// `keyPredicate = simpleKey / compoundKey`
    pub(crate) fn key_predicate(&mut self) -> PResult<KeyPredicate> {
        self.expect(b'(', "'('")?;
        let n = self.ident_len();
        let named = n > 0 && self.peek_at(n) == Some(b'=');
        let key = if named {
            let mut pairs = Vec::new();
            loop {
                let name = self.ident("key property")?;
                if !self.eat_byte(b'=') {
                    return Err(self.fail("'='"));
                }
                let v = self.key_value()?;
                pairs.push((name, v));
                if self.eat(b',') {
                    continue;
                }
                break;
            }
            KeyPredicate::Named(pairs)
        } else {
            KeyPredicate::Single(Box::new(self.key_value()?))
        };
        self.expect(b')', "')'")?;
        Ok(key)
    }

    /// `parameterAlias / keyPropertyValue`
    fn key_value(&mut self) -> PResult<Expr> {
        if self.at(b'@') {
            return self.alias();
        }
        self.primitive_literal()
    }

    /// `parameterAlias = AT odataIdentifier`
    pub(crate) fn alias(&mut self) -> PResult<Expr> {
        let start = self.pos;
        if !self.eat(b'@') {
            return Err(self.fail("'@'"));
        }
        let id = self.ident("alias name")?;
        let span = self.span(start);
        self.mk(ExprKind::Alias(id), span)
    }

    /// `functionExprParameters = OPEN [ BWS functionExprParameter *( BWS COMMA BWS functionExprParameter ) ] BWS CLOSE`
    /// with `functionExprParameter = parameterName EQ ( parameterAlias / parameterValue )`.
    pub(crate) fn function_params(&mut self) -> PResult<Vec<(Ident, Expr)>> {
        self.expect(b'(', "'('")?;
        self.bws();
        let mut params = Vec::new();
        if !self.at(b')') {
            loop {
                let name = self.ident("parameter name")?;
                if !self.eat_byte(b'=') {
                    return Err(self.fail("'='"));
                }
                let v = if self.in_resource_path {
                    if self.at(b'@') {
                        self.alias()?
                    } else {
                        self.primitive_literal()?
                    }
                } else {
                    self.common_expr()?
                };
                params.push((name, v));
                self.bws();
                if self.eat(b',') {
                    self.bws();
                    continue;
                }
                break;
            }
        }
        self.bws();
        self.expect(b')', "')'")?;
        Ok(params)
    }

    /// The rest of a member path after its first segment(s): `/segment`,
    /// `/$count[(...)]`, `/any(...)`, `/all(...)`, `/$filter(...)`,
    /// `/aggregate(...)`.
    #[inline]
    pub(crate) fn path_rest(
        &mut self,
        start: usize,
        root: PathRoot,
        mut segments: Vec<PathSegment>,
    ) -> PResult<Expr> {
        while self.peek() == Some(b'/') {
            self.pos += 1;
            let seg_start = self.pos;
            if self.eat_kw_cs("$count") {
                let collection = MemberPath {
                    root,
                    segments,
                    span: Span::new(start, seg_start - 1),
                };
                return self.path_count(start, collection);
            }
            if (self.at_kw("any") || self.at_kw("all"))
                && super::lexical::punct_len(&self.rest()[3..], b'(') > 0
            {
                let collection = MemberPath {
                    root,
                    segments,
                    span: Span::new(start, seg_start - 1),
                };
                return self.lambda(start, collection);
            }
            if self.at_kw_cs("$filter") && super::lexical::punct_len(&self.rest()[7..], b'(') > 0 {
                self.pos += 7;
                self.expect(b'(', "'('")?;
                let e = self.common_expr()?;
                self.expect(b')', "')'")?;
                let key = if self.at(b'(') {
                    Some(self.key_predicate()?)
                } else {
                    None
                };
                segments.push(PathSegment::Filter {
                    filter: Box::new(e),
                    key,
                });
                continue;
            }
            if self.at_kw_cs("aggregate") && super::lexical::punct_len(&self.rest()[9..], b'(') > 0
            {
                self.pos += 9;
                self.expect(b'(', "'('")?;
                self.bws();
                let item = self.aggregate_item(false)?;
                self.bws();
                self.expect(b')', "')'")?;
                segments.push(PathSegment::Aggregate(Box::new(item)));
                let span = self.span(start);
                return self.mk(
                    ExprKind::Path(MemberPath {
                        root,
                        segments,
                        span,
                    }),
                    span,
                );
            }
            segments.push(self.path_segment()?);
        }
        let span = self.span(start);
        self.mk(
            ExprKind::Path(MemberPath {
                root,
                segments,
                span,
            }),
            span,
        )
    }

    /// `count [ OPEN expandCountOption *( SEMI expandCountOption ) CLOSE ]`
    fn path_count(&mut self, start: usize, collection: MemberPath) -> PResult<Expr> {
        let mut filter = None;
        let mut search = None;
        if self.eat(b'(') {
            loop {
                let opt_start = self.pos;
                self.eat_byte(b'$');
                if self.eat_kw("filter") && self.eat_byte(b'=') {
                    if filter.is_some() {
                        return Err(
                            self.hard_error(crate::error::ErrorKind::DuplicateOption, opt_start)
                        );
                    }
                    filter = Some(Box::new(self.common_expr()?));
                } else {
                    self.pos = opt_start;
                    self.eat_byte(b'$');
                    if self.eat_kw("search") && self.eat_byte(b'=') {
                        if search.is_some() {
                            return Err(self
                                .hard_error(crate::error::ErrorKind::DuplicateOption, opt_start));
                        }
                        search = Some(self.search_option()?);
                    } else {
                        self.pos = opt_start;
                        return Err(self.fail("$filter or $search"));
                    }
                }
                if self.eat(b';') {
                    continue;
                }
                break;
            }
            self.expect(b')', "')'")?;
        }
        let span = self.span(start);
        self.mk(
            ExprKind::PathCount(PathCount {
                collection,
                filter,
                search,
            }),
            span,
        )
    }

    /// `anyExpr = "any" OPEN BWS [ lambdaVariableExpr BWS COLON BWS lambdaPredicateExpr ] BWS CLOSE`
    /// and `allExpr` (variable and predicate required).
    pub(crate) fn lambda(&mut self, start: usize, collection: MemberPath) -> PResult<Expr> {
        let kind = if self.eat_kw("any") {
            LambdaKind::Any
        } else {
            self.eat_kw("all");
            LambdaKind::All
        };
        self.expect(b'(', "'('")?;
        self.bws();
        let (variable, predicate) = if kind == LambdaKind::Any && self.at(b')') {
            (None, None)
        } else {
            let var = self.ident("range variable")?;
            self.bws();
            self.expect(b':', "':'")?;
            self.bws();
            let pred = self.common_expr()?;
            (Some(var), Some(Box::new(pred)))
        };
        self.bws();
        self.expect(b')', "')'")?;
        let span = self.span(start);
        self.mk(
            ExprKind::Lambda(Lambda {
                collection,
                kind,
                variable,
                predicate,
            }),
            span,
        )
    }
}
