//! Expressions: `commonExpr`, `boolCommonExpr` and everything inside them.
//!
//! Binary operators are parsed by precedence climbing over
//! [`BinaryOp::precedence`]: a primary is parsed once and the following
//! operator decides what happens next, so no prefix is ever parsed twice.
//! `in` binds like `has` (tighter than comparisons, looser than arithmetic).

use super::lexical::{builtin_arity, is_ident_char, is_ident_start};
use super::{PResult, Parser};
use crate::ast::*;

/// The binding strength of `in` (same as `has`).
pub(crate) const IN_PRECEDENCE: u8 = 5;

enum Op {
    Bin(BinaryOp),
    In,
}

fn op_from(word: &[u8]) -> Option<Op> {
    let mut buf = [0u8; 5];
    if word.len() > 5 {
        return None;
    }
    for (i, c) in word.iter().enumerate() {
        buf[i] = c.to_ascii_lowercase();
    }
    Some(Op::Bin(match &buf[..word.len()] {
        b"or" => BinaryOp::Or,
        b"and" => BinaryOp::And,
        b"eq" => BinaryOp::Eq,
        b"ne" => BinaryOp::Ne,
        b"gt" => BinaryOp::Gt,
        b"ge" => BinaryOp::Ge,
        b"lt" => BinaryOp::Lt,
        b"le" => BinaryOp::Le,
        b"has" => BinaryOp::Has,
        b"add" => BinaryOp::Add,
        b"sub" => BinaryOp::Sub,
        b"mul" => BinaryOp::Mul,
        b"div" => BinaryOp::Div,
        b"divby" => BinaryOp::DivBy,
        b"mod" => BinaryOp::Mod,
        b"in" => return Some(Op::In),
        _ => return None,
    }))
}

impl Parser<'_> {
    #[inline]
    pub(crate) fn mk(&mut self, kind: ExprKind, span: Span) -> PResult<Expr> {
        self.node()?;
        Ok(Expr { kind, span })
    }

    /// `commonExpr` (also `boolCommonExpr`: booleanness is semantic).
    pub(crate) fn common_expr(&mut self) -> PResult<Expr> {
        self.expr_bp(0)
    }

    /// Precedence climbing: operands and operators binding at least `min`.
    pub(crate) fn expr_bp(&mut self, min: u8) -> PResult<Expr> {
        self.enter()?;
        let mut left = self.unary()?;
        loop {
            let save = self.pos;
            if !self.rws() {
                break;
            }
            let ws = self.pos;
            let n = self
                .rest()
                .iter()
                .take_while(|&&c| c.is_ascii_alphabetic())
                .count();
            let Some(op) = (if n > 0 && !self.peek_at(n).is_some_and(is_ident_char) {
                op_from(&self.rest()[..n])
            } else {
                None
            }) else {
                let _ = self.fail("operator");
                self.pos = save;
                break;
            };
            let prec = match op {
                Op::Bin(b) => b.precedence(),
                Op::In => IN_PRECEDENCE,
            };
            if prec < min {
                self.pos = save;
                break;
            }
            self.pos += n;
            let op_span = Span::new(ws, self.pos);
            if !self.rws() {
                // `a eq` at the end, or `eq(`: not an operator here.
                let _ = self.fail("whitespace and an operand");
                self.pos = save;
                break;
            }
            left = match op {
                Op::In => {
                    let list = self.in_rhs()?;
                    let span = left.span.to(list.span);
                    self.mk(
                        ExprKind::In(In {
                            expr: Box::new(left),
                            list: Box::new(list),
                        }),
                        span,
                    )?
                }
                Op::Bin(op) => {
                    let right = self.expr_bp(prec + 1)?;
                    let span = left.span.to(right.span);
                    self.mk(
                        ExprKind::Binary(Binary {
                            op,
                            op_span,
                            left: Box::new(left),
                            right: Box::new(right),
                        }),
                        span,
                    )?
                }
            };
        }
        self.leave();
        Ok(left)
    }

    /// `inExpr = RWS "in" RWS ( listExpr / commonExpr )` (after the keyword).
    fn in_rhs(&mut self) -> PResult<Expr> {
        if self.at(b'(')
            && let Some(list) = self.attempt(|p| p.list_expr())?
        {
            return Ok(list);
        }
        self.expr_bp(IN_PRECEDENCE + 1)
    }

    /// `listExpr = OPEN BWS [ primitiveLiteral BWS *( COMMA BWS primitiveLiteral BWS ) ] CLOSE`
    fn list_expr(&mut self) -> PResult<Expr> {
        let start = self.pos;
        self.expect(b'(', "'('")?;
        self.bws();
        let mut items = Vec::new();
        if !self.at(b')') {
            loop {
                items.push(self.primitive_literal()?);
                self.bws();
                if self.eat(b',') {
                    self.bws();
                    continue;
                }
                break;
            }
        }
        self.expect(b')', "')'")?;
        let span = self.span(start);
        self.mk(ExprKind::List(items), span)
    }

    /// `notExpr`, `negateExpr` or a primary expression.
    ///
    /// `not` and `-` bind tighter than every binary operator.
    #[inline]
    fn unary(&mut self) -> PResult<Expr> {
        let start = self.pos;
        match self.peek() {
            Some(b'-') => {
                let next = self.peek_at(1);
                let inf =
                    self.rest().starts_with(b"-INF") && !self.peek_at(4).is_some_and(is_ident_char);
                if next.is_some_and(|c| c.is_ascii_digit()) || inf {
                    return self.primary();
                }
                self.pos += 1;
                self.bws();
                return self.unary_operand(UnaryOp::Neg, start);
            }
            Some(b'n' | b'N') if self.at_kw("not") => {
                let save = self.pos;
                self.pos += 3;
                if self.rws() || self.at(b'(') {
                    return self.unary_operand(UnaryOp::Not, start);
                }
                self.pos = save;
            }
            _ => {}
        }
        self.primary()
    }

    #[inline]
    fn unary_operand(&mut self, op: UnaryOp, start: usize) -> PResult<Expr> {
        self.enter()?;
        let operand = self.unary()?;
        self.leave();
        let span = Span::new(start, operand.span.end);
        self.mk(
            ExprKind::Unary(Unary {
                op,
                operand: Box::new(operand),
            }),
            span,
        )
    }

    /// Everything that can start an operand.
    #[inline]
    pub(crate) fn primary(&mut self) -> PResult<Expr> {
        let Some(c) = self.peek() else {
            return Err(self.fail("expression"));
        };
        match c {
            b'(' => self.paren_expr(),
            b'[' | b'{' => self.json_expr(),
            b'\'' => self.string_literal(),
            b'@' => self.alias_or_annotation(),
            b'$' => self.dollar_expr(),
            b'0'..=b'9' | b'-' | b'+' => self.number_like(),
            b'%' => {
                if self.at(b'(') {
                    self.paren_expr()
                } else if self.at(b'\'') {
                    self.string_literal()
                } else if self.at(b'+') {
                    self.number_like()
                } else if self.at(b'@') {
                    self.alias_or_annotation()
                } else if self.at(b'[') || self.at(b'{') {
                    self.json_expr()
                } else if self.ident_len() > 0 {
                    self.word_expr()
                } else {
                    Err(self.fail("expression"))
                }
            }
            c if is_ident_start(c) => self.word_expr(),
            _ => Err(self.fail("expression")),
        }
    }

    /// `parenExpr = OPEN BWS commonExpr BWS CLOSE`
    fn paren_expr(&mut self) -> PResult<Expr> {
        let start = self.pos;
        self.expect(b'(', "'('")?;
        self.bws();
        let mut e = self.common_expr()?;
        self.bws();
        self.expect(b')', "')'")?;
        e.span = self.span(start);
        Ok(e)
    }

    /// A primitive literal only (`primitiveLiteral`): list items, keys,
    /// function parameters in resource paths.
    pub(crate) fn primitive_literal(&mut self) -> PResult<Expr> {
        let start = self.pos;
        match self.peek() {
            Some(b'\'') => self.string_literal(),
            Some(b'0'..=b'9' | b'-' | b'+') => self.number_like(),
            Some(b'%') if self.at(b'\'') => self.string_literal(),
            Some(b'%') if self.at(b'+') => self.number_like(),
            Some(c) if is_ident_start(c) => {
                if let Some(g) = self.guid_word()? {
                    return Ok(g);
                }
                let n = self.qualified_len();
                self.pos += n;
                let name = self.text(start, self.pos);
                if self.at_squote() {
                    return self.prefixed_literal(start, name);
                }
                match self.word_literal(name) {
                    Some(l) => {
                        let span = self.span(start);
                        self.literal_expr(l, span)
                    }
                    None => {
                        self.pos = start;
                        Err(self.fail("literal"))
                    }
                }
            }
            _ => Err(self.fail("literal")),
        }
    }

    /// `null`, `true`/`false` (any case), `NaN`, `INF`.
    #[inline]
    fn word_literal(&self, name: &str) -> Option<Literal> {
        match name {
            "null" => Some(Literal::Null),
            "NaN" | "INF" => Some(Literal::Double(name.to_string())),
            _ if name.eq_ignore_ascii_case("true") => Some(Literal::Boolean(true)),
            _ if name.eq_ignore_ascii_case("false") => Some(Literal::Boolean(false)),
            _ => None,
        }
    }

    /// A GUID whose first character is a letter (`abcdef01-...`).
    #[inline]
    fn guid_word(&mut self) -> PResult<Option<Expr>> {
        let r = self.rest();
        if r.len() >= 36 && r[..8].iter().all(|c| c.is_ascii_hexdigit()) && r[8] == b'-' {
            return Ok(Some(self.number_like()?));
        }
        Ok(None)
    }

    /// An expression starting with a letter: a literal with a word
    /// (`true`, `null`, `duration'..'`, `Ns.Enum'..'`, a GUID), a built-in
    /// function call, or a member path.
    #[inline]
    fn word_expr(&mut self) -> PResult<Expr> {
        let start = self.pos;
        if let Some(g) = self.guid_word()? {
            return Ok(g);
        }
        let n = self.qualified_len();
        if n == 0 {
            return Err(self.fail("expression"));
        }
        self.pos += n;
        let name = self.text(start, self.pos);
        if self.at_squote() {
            return self.prefixed_literal(start, name);
        }
        if let Some(l) = self.word_literal(name) {
            let span = self.span(start);
            return self.literal_expr(l, span);
        }
        if self.at(b'(') && name.len() <= 18 {
            let mut buf = [0u8; 18];
            let lower = &mut buf[..name.len()];
            lower.copy_from_slice(name.as_bytes());
            lower.make_ascii_lowercase();
            let lower = std::str::from_utf8(lower).unwrap_or_default();
            if let Some(arity) = builtin_arity(lower) {
                let id = Ident {
                    name: lower.to_string(),
                    span: self.span(start),
                };
                return self.call(start, id, arity);
            }
        }
        self.pos = start;
        let seg = self.path_segment_of_len(n)?;
        if matches!(seg, PathSegment::TypeCast(_)) && self.peek() != Some(b'/') {
            // `memberExpr`: a leading type cast must be followed by a member.
            return Err(self.fail("'/' or '('"));
        }
        self.path_rest(start, PathRoot::Implicit, vec![seg])
    }

    /// A built-in function call after its name.
    fn call(&mut self, start: usize, name: Ident, (min, max): (usize, usize)) -> PResult<Expr> {
        self.expect(b'(', "'('")?;
        self.bws();
        let mut args = Vec::new();
        match name.name.as_str() {
            "isof" | "cast" => {
                // `isof( [ commonExpr BWS COMMA BWS ] optionallyQualifiedTypeName )`
                let single = self.attempt(|p| {
                    let t = p.type_name_expr()?;
                    p.bws();
                    if !p.at(b')') {
                        return Err(p.fail("')'"));
                    }
                    Ok(t)
                })?;
                match single {
                    Some(t) => args.push(t),
                    None => {
                        args.push(self.common_expr()?);
                        self.bws();
                        self.expect(b',', "','")?;
                        self.bws();
                        args.push(self.type_name_expr()?);
                    }
                }
            }
            "case" => loop {
                // `caseMethodCallExpr`: condition COLON value pairs.
                args.push(self.common_expr()?);
                self.bws();
                self.expect(b':', "':'")?;
                self.bws();
                args.push(self.common_expr()?);
                self.bws();
                if self.eat(b',') {
                    self.bws();
                    continue;
                }
                break;
            },
            _ => {
                if max > 0 {
                    loop {
                        args.push(self.common_expr()?);
                        self.bws();
                        if args.len() < max && self.at(b',') {
                            self.eat(b',');
                            self.bws();
                            continue;
                        }
                        break;
                    }
                }
                if args.len() < min {
                    return Err(self.fail("','"));
                }
            }
        }
        self.bws();
        self.expect(b')', "')'")?;
        let span = self.span(start);
        self.mk(ExprKind::Call(Call { name, args }), span)
    }

    /// `optionallyQualifiedTypeName` as a type-cast-only path.
    fn type_name_expr(&mut self) -> PResult<Expr> {
        let start = self.pos;
        let id = self.type_name()?;
        let span = id.span;
        let path = MemberPath {
            root: PathRoot::Implicit,
            segments: vec![PathSegment::TypeCast(id)],
            span,
        };
        let _ = start;
        self.mk(ExprKind::Path(path), span)
    }

    /// `optionallyQualifiedTypeName = qualifiedName / %s"Collection" OPEN qualifiedName CLOSE`
    pub(crate) fn type_name(&mut self) -> PResult<Ident> {
        let start = self.pos;
        if self.rest().starts_with(b"Collection") {
            self.pos += "Collection".len();
            if self.eat(b'(') {
                let inner = self.qualified("type name")?;
                self.expect(b')', "')'")?;
                return Ok(Ident {
                    name: format!("Collection({})", inner.name),
                    span: self.span(start),
                });
            }
            self.pos = start;
        }
        self.qualified("type name")
    }

    /// `parameterAlias` (`@name`) or an annotation path (`@Core.Messages/...`).
    fn alias_or_annotation(&mut self) -> PResult<Expr> {
        let start = self.pos;
        let seg = self.annotation_segment()?;
        let PathSegment::Member { name, key: None } = &seg else {
            unreachable!("annotation_segment")
        };
        if !name.name[1..].contains(['.', '#', '%']) && self.peek() != Some(b'/') {
            let id = Ident {
                name: name.name[1..].to_string(),
                span: Span::new(name.span.start, name.span.end),
            };
            let span = self.span(start);
            return self.mk(ExprKind::Alias(id), span);
        }
        self.path_rest(start, PathRoot::Implicit, vec![seg])
    }

    /// `AT [ namespace "." ] termName [ HASH annotationQualifier ]` as a
    /// member segment named `@...` (`%40` normalised to `@`).
    pub(crate) fn annotation_segment(&mut self) -> PResult<PathSegment> {
        let start = self.pos;
        if !self.eat(b'@') {
            return Err(self.fail("'@'"));
        }
        let q = self.qualified("name")?;
        let mut name = format!("@{}", q.name);
        if self.rest().starts_with(b"%23") {
            let save = self.pos;
            self.pos += 3;
            let n = self.ident_len();
            if n > 0 {
                name.push_str(self.text(save, self.pos + n));
                self.pos += n;
            } else {
                self.pos = save;
            }
        }
        Ok(PathSegment::Member {
            name: Ident {
                name,
                span: self.span(start),
            },
            key: None,
        })
    }

    /// `$it`, `$this`, `$root/...` and `$these/...`.
    fn dollar_expr(&mut self) -> PResult<Expr> {
        let start = self.pos;
        if self.eat_kw_cs("$it") {
            return self.path_rest(start, PathRoot::It, Vec::new());
        }
        if self.eat_kw_cs("$this") {
            return self.path_rest(start, PathRoot::This, Vec::new());
        }
        if self.eat_kw_cs("$root") {
            if self.peek() != Some(b'/') {
                return Err(self.fail("'/'"));
            }
            self.pos += 1;
            let seg = self.path_segment()?;
            return self.path_rest(start, PathRoot::Root, vec![seg]);
        }
        if self.eat_kw_cs("$these") {
            let seg = PathSegment::Member {
                name: self.ident_from(start, self.pos),
                key: None,
            };
            if self.peek() != Some(b'/') {
                return Err(self.fail("'/'"));
            }
            return self.path_rest(start, PathRoot::Implicit, vec![seg]);
        }
        Err(self.fail("expression"))
    }

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
    fn path_segment_of_len(&mut self, n: usize) -> PResult<PathSegment> {
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

    /// A JSON array or object in the URL (`arrayOrObject`).
    fn json_expr(&mut self) -> PResult<Expr> {
        let start = self.pos;
        self.enter()?;
        let v = if self.at(b'[') {
            self.json_array()?
        } else {
            self.json_object()?
        };
        self.leave();
        let span = self.span(start);
        self.mk(ExprKind::Json(v), span)
    }

    /// `array = begin-array [ valueInUrl *( value-separator valueInUrl ) ] end-array`
    fn json_array(&mut self) -> PResult<JsonValue> {
        self.expect(b'[', "'['")?;
        self.bws();
        let mut items = Vec::new();
        if !self.at(b']') {
            loop {
                items.push(self.json_value()?);
                self.bws();
                if self.eat(b',') {
                    self.bws();
                    continue;
                }
                break;
            }
        }
        self.bws();
        self.expect(b']', "']'")?;
        Ok(JsonValue::Array(items))
    }

    /// `object = begin-object [ member *( value-separator member ) ] end-object`
    fn json_object(&mut self) -> PResult<JsonValue> {
        self.expect(b'{', "'{'")?;
        self.bws();
        let mut members = Vec::new();
        if !self.at(b'}') {
            loop {
                let name = self.json_string()?;
                self.bws();
                self.expect(b':', "':'")?;
                self.bws();
                let v = self.json_value()?;
                members.push((name, v));
                self.bws();
                if self.eat(b',') {
                    self.bws();
                    continue;
                }
                break;
            }
        }
        self.bws();
        self.expect(b'}', "'}'")?;
        Ok(JsonValue::Object(members))
    }

    /// `valueInUrl = stringInUrl / commonExpr`
    fn json_value(&mut self) -> PResult<JsonValue> {
        if self.at(b'"') {
            return Ok(JsonValue::String(self.json_string()?));
        }
        let e = self.common_expr()?;
        Ok(match e.kind {
            ExprKind::Literal(Literal::Null) => JsonValue::Null,
            ExprKind::Literal(Literal::Boolean(b)) => JsonValue::Bool(b),
            ExprKind::Literal(Literal::Integer(i)) => JsonValue::Number(i.to_string()),
            ExprKind::Literal(Literal::Decimal(t) | Literal::Double(t)) => JsonValue::Number(t),
            ExprKind::Json(v) => v,
            _ => JsonValue::Expr(Box::new(e)),
        })
    }

    /// `stringInUrl = quotation-mark *charInJSON quotation-mark`, escapes resolved.
    pub(crate) fn json_string(&mut self) -> PResult<String> {
        if !self.eat(b'"') {
            return Err(self.fail("'\"'"));
        }
        let mut out = String::new();
        let mut seg = self.pos;
        loop {
            if self.at(b'"') {
                out.push_str(self.text(seg, self.pos));
                self.eat(b'"');
                return Ok(out);
            }
            if self.at(b'\\') {
                out.push_str(self.text(seg, self.pos));
                self.eat(b'\\');
                let c = if self.eat(b'"') {
                    '"'
                } else if self.eat(b'\\') {
                    '\\'
                } else if self.eat(b'/') {
                    '/'
                } else {
                    let Some(e) = self.peek() else {
                        return Err(self.fail("escape"));
                    };
                    self.pos += 1;
                    match e {
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let r = self.rest();
                            if r.len() < 4 || !r[..4].iter().all(|c| c.is_ascii_hexdigit()) {
                                return Err(self.fail("4 hex digits"));
                            }
                            let v = u32::from_str_radix(self.text(self.pos, self.pos + 4), 16)
                                .unwrap_or(0xFFFD);
                            self.pos += 4;
                            char::from_u32(v).unwrap_or('\u{FFFD}')
                        }
                        _ => {
                            self.pos -= 1;
                            return Err(self.fail("escape"));
                        }
                    }
                };
                out.push(c);
                seg = self.pos;
                continue;
            }
            let Some(c) = self.peek() else {
                return Err(self.fail("'\"'"));
            };
            let ok = match c {
                b'%' => {
                    let r = self.rest();
                    if r.len() >= 3 && r[1].is_ascii_hexdigit() && r[2].is_ascii_hexdigit() {
                        self.pos += 2;
                        true
                    } else {
                        false
                    }
                }
                b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' => true,
                b'-' | b'.' | b'_' | b'~' | b'!' | b'(' | b')' | b'*' | b'+' | b',' | b';'
                | b':' | b'@' | b'/' | b'?' | b'$' | b'\'' | b'=' | b' ' | b'{' | b'}' | b'['
                | b']' => true,
                c => c >= 0x80,
            };
            if !ok {
                return Err(self.fail("'\"'"));
            }
            self.pos += 1;
        }
    }
}
