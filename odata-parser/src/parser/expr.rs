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
}
