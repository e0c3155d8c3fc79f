//! Statement templates: a query translated once per *shape* and run again
//! with new literal values, without translating or building SQL text.
//!
//! Two requests have the same shape when they differ only in the values of
//! literals that are direct operands of a comparison with a property
//! (`userKey eq 'a'` and `userKey eq 'b'`), and in the tenant. The shape
//! ([`Shape::of`]) is a text key plus those literals in order; everything
//! else of the query (`$select`, `$orderby`, `$top`, `$skip`, other
//! literals) is part of the key as written.
//!
//! A template is made from two translations of the same shape: the request
//! itself and a copy whose parameter literals and tenant all differ
//! ([`Shape::perturbed`]). [`Template::derive`] accepts them only when the
//! SQL text is the same and every bound value is either the same in both
//! (a constant of the shape) or exactly the tenant or one literal's value
//! in each; anything else (a value computed from a literal, a text that
//! depends on a value) gives no template, and the query is translated every
//! time. Only a small, value-independent part of the language qualifies
//! (see [`Shape::of`]): `and`/`or`/`not`, comparisons and `in`, property
//! paths and literals; no function calls (`now()` is a value taken at
//! translation time), arithmetic, lambdas, aliases, `$expand`, `$search`,
//! `$compute`, `$apply`, `$count=true` or `$skiptoken`.
//!
//! ```
//! use odata_sql::template::Shape;
//! let a = odata_parser::parse_query("$filter=userKey eq 'a'&$top=5", &Default::default()).unwrap();
//! let b = odata_parser::parse_query("$filter=userKey eq 'b'&$top=5", &Default::default()).unwrap();
//! let c = odata_parser::parse_query("$filter=userKey eq 'b'&$top=6", &Default::default()).unwrap();
//! let (sa, sb, sc) = (Shape::of(&a).unwrap(), Shape::of(&b).unwrap(), Shape::of(&c).unwrap());
//! assert_eq!(sa.key, sb.key);
//! assert_ne!(sb.key, sc.key);
//! assert_eq!(sa.values().unwrap(), vec![sea_query::Value::from("a")]);
//! ```

use std::fmt::Write as _;

use odata_parser::ast::{
    BinaryOp, Expr, ExprKind, Literal, PathRoot, PathSegment, QueryOptions, UnaryOp,
};
use sea_query::Value;

use crate::expr::percent_decode;

/// The shape of a query: its key and its parameter literals.
#[derive(Debug, Clone, PartialEq)]
pub struct Shape {
    /// Equal for two queries that differ only in parameter values.
    pub key: String,
    /// The parameter literals, in the order of the text.
    pub params: Vec<Literal>,
}

impl Shape {
    /// The shape of `options`; `None` when the query uses anything a
    /// template cannot take (see the module documentation).
    pub fn of(options: &QueryOptions) -> Option<Shape> {
        let templatable = options.expand.is_none()
            && options.search.is_none()
            && options.compute.is_none()
            && options.apply.is_none()
            && options.levels.is_none()
            && options.skiptoken.is_none()
            && options.deltatoken.is_none()
            && options.index.is_none()
            && options.id.is_none()
            && options.aliases.is_empty()
            && !options.count.is_some_and(|c| c.value);
        if !templatable {
            return None;
        }
        let mut shape = Shape {
            key: String::with_capacity(64),
            params: Vec::new(),
        };
        if let Some(filter) = &options.filter {
            shape.key.push_str("f:");
            shape.filter(filter)?;
        }
        let k = &mut shape.key;
        if let Some(select) = &options.select {
            let _ = write!(k, "|s:{select}");
        }
        if let Some(orderby) = &options.orderby {
            let _ = write!(k, "|o:{orderby}");
        }
        if let Some(top) = &options.top {
            let _ = write!(k, "|t:{}", top.value);
        }
        if let Some(skip) = &options.skip {
            let _ = write!(k, "|k:{}", skip.value);
        }
        Some(shape)
    }

    fn filter(&mut self, e: &Expr) -> Option<()> {
        match &e.kind {
            ExprKind::Literal(lit) => {
                let _ = write!(self.key, "{lit}");
            }
            ExprKind::Path(_) => self.path(e)?,
            ExprKind::Binary(b) => {
                let comparison = is_comparison(b.op);
                if !comparison && !matches!(b.op, BinaryOp::And | BinaryOp::Or) {
                    return None;
                }
                self.key.push('(');
                self.operand(&b.left, comparison && is_path(&b.right))?;
                let _ = write!(self.key, " {:?} ", b.op);
                self.operand(&b.right, comparison && is_path(&b.left))?;
                self.key.push(')');
            }
            ExprKind::Unary(u) if u.op == UnaryOp::Not => {
                self.key.push_str("not(");
                self.filter(&u.operand)?;
                self.key.push(')');
            }
            ExprKind::In(i) => {
                // The list stays in the key as written: a translation may
                // fold equal items.
                self.key.push('(');
                self.filter(&i.expr)?;
                self.key.push_str(" in [");
                let ExprKind::List(items) = &i.list.kind else {
                    return None;
                };
                for item in items {
                    let ExprKind::Literal(lit) = &item.kind else {
                        return None;
                    };
                    let _ = write!(self.key, "{lit},");
                }
                self.key.push_str("])");
            }
            _ => return None,
        }
        Some(())
    }

    fn operand(&mut self, e: &Expr, param: bool) -> Option<()> {
        match &e.kind {
            ExprKind::Literal(lit) if param && parameter(lit) => {
                self.key.push_str(match lit {
                    Literal::String(_) => "?s",
                    Literal::Integer(_) => "?i",
                    _ => "?g",
                });
                self.params.push(lit.clone());
                Some(())
            }
            _ => self.filter(e),
        }
    }

    fn path(&mut self, e: &Expr) -> Option<()> {
        let ExprKind::Path(p) = &e.kind else {
            return None;
        };
        if p.root != PathRoot::Implicit {
            return None;
        }
        for (i, s) in p.segments.iter().enumerate() {
            let PathSegment::Member { name, key: None } = s else {
                return None;
            };
            if i > 0 {
                self.key.push('/');
            }
            let _ = write!(self.key, "{name}");
        }
        Some(())
    }

    /// The values the translator binds for the parameters, in order;
    /// `None` when one is invalid (the translation reports it).
    pub fn values(&self) -> Option<Vec<Value>> {
        self.params.iter().map(param_value).collect()
    }

    /// `options` with every parameter literal changed to another valid
    /// value of its type, each differently (for [`Template::derive`]).
    pub fn perturbed(options: &QueryOptions) -> QueryOptions {
        let mut copy = options.clone();
        if let Some(filter) = &mut copy.filter {
            perturb(filter, &mut 0);
        }
        copy
    }
}

fn is_comparison(op: BinaryOp) -> bool {
    matches!(
        op,
        BinaryOp::Eq | BinaryOp::Ne | BinaryOp::Gt | BinaryOp::Ge | BinaryOp::Lt | BinaryOp::Le
    )
}

fn is_path(e: &Expr) -> bool {
    matches!(e.kind, ExprKind::Path(_))
}

/// The literal kinds a template takes as parameters: their translation is
/// one bound value, whatever the value (nulls, booleans, numbers with a
/// fraction and date-times, whose precision can change the SQL, stay in
/// the key).
fn parameter(lit: &Literal) -> bool {
    matches!(
        lit,
        Literal::String(_) | Literal::Integer(_) | Literal::Guid(_)
    )
}

/// The value the translator binds for a parameter literal.
fn param_value(lit: &Literal) -> Option<Value> {
    match lit {
        Literal::String(raw) => percent_decode(raw).ok().map(Value::from),
        Literal::Integer(i) => Some(Value::from(*i)),
        Literal::Guid(text) => uuid::Uuid::parse_str(text).ok().map(Value::from),
        _ => None,
    }
}

/// Mirrors [`Shape::filter`]: changes exactly the literals it takes as
/// parameters, the `n`th one by `n + 1` (so that two parameters equal in
/// the request differ in the copy).
fn perturb(e: &mut Expr, n: &mut usize) {
    match &mut e.kind {
        ExprKind::Binary(b) => {
            let comparison = is_comparison(b.op);
            let (left_path, right_path) = (is_path(&b.left), is_path(&b.right));
            perturb_operand(&mut b.left, comparison && right_path, n);
            perturb_operand(&mut b.right, comparison && left_path, n);
        }
        ExprKind::Unary(u) if u.op == UnaryOp::Not => perturb(&mut u.operand, n),
        _ => {}
    }
}

fn perturb_operand(e: &mut Expr, param: bool, n: &mut usize) {
    match &mut e.kind {
        ExprKind::Literal(lit) if param && parameter(lit) => {
            *n += 1;
            match lit {
                Literal::String(raw) => raw.push_str(&"z".repeat(*n)),
                Literal::Integer(i) => *i ^= *n as i64,
                Literal::Guid(text) => {
                    if let Ok(id) = uuid::Uuid::parse_str(text) {
                        *text = uuid::Uuid::from_u128(id.as_u128() ^ *n as u128).to_string();
                    }
                }
                _ => {}
            }
        }
        _ => perturb(e, n),
    }
}

/// Where a bound value of a template comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Slot {
    /// The same for every query of the shape.
    Const(Value),
    /// The tenant.
    Tenant,
    /// Parameter `n` of the shape.
    Param(usize),
}

/// A translated statement of a shape, ready to bind.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    /// The SQL text.
    pub sql: String,
    /// Where each bound value comes from, in order.
    pub slots: Vec<Slot>,
}

/// One translation of a shape: its SQL text and values, the parameter
/// values and the tenant it was made with.
#[derive(Debug, Clone, Copy)]
pub struct Instance<'a> {
    /// SQL text.
    pub sql: &'a str,
    /// Bound values.
    pub values: &'a [Value],
    /// [`Shape::values`] of the request translated.
    pub params: &'a [Value],
    /// The tenant value.
    pub tenant: &'a Value,
}

impl Template {
    /// The template two translations of a shape agree on (see the module
    /// documentation); `None` when they do not.
    pub fn derive(a: Instance<'_>, b: Instance<'_>) -> Option<Template> {
        if a.sql != b.sql
            || a.values.len() != b.values.len()
            || a.params.len() != b.params.len()
            || a.tenant == b.tenant
            || a.params.iter().zip(b.params).any(|(x, y)| x == y)
        {
            return None;
        }
        let mut slots = Vec::with_capacity(a.values.len());
        for (va, vb) in a.values.iter().zip(b.values) {
            if va == vb {
                slots.push(Slot::Const(va.clone()));
                continue;
            }
            let mut sources = (0..a.params.len())
                .filter(|&i| &a.params[i] == va && &b.params[i] == vb)
                .map(Slot::Param)
                .chain((va == a.tenant && vb == b.tenant).then_some(Slot::Tenant));
            match (sources.next(), sources.next()) {
                (Some(slot), None) => slots.push(slot),
                // Unexplained, or explained two ways.
                _ => return None,
            }
        }
        Some(Template {
            sql: a.sql.to_owned(),
            slots,
        })
    }

    /// The values to bind for a request with these parameter values
    /// ([`Shape::values`]) and tenant.
    pub fn bind(&self, params: &[Value], tenant: &Value) -> Option<Vec<Value>> {
        self.slots
            .iter()
            .map(|slot| match slot {
                Slot::Const(v) => Some(v.clone()),
                Slot::Tenant => Some(tenant.clone()),
                Slot::Param(i) => params.get(*i).cloned(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(q: &str) -> Option<Shape> {
        Shape::of(&odata_parser::parse_query(q, &Default::default()).unwrap())
    }

    #[test]
    fn parameters_are_direct_comparison_operands_only() {
        let s = shape("$filter=status eq 1 and (name eq 'x' or 'y' ne email)").unwrap();
        assert_eq!(s.params.len(), 3);
        assert_eq!(
            s.key,
            shape("$filter=status eq 7 and (name eq 'a' or 'b' ne email)")
                .unwrap()
                .key
        );
        // Booleans, nulls and literals compared with literals stay in the key.
        for (a, b) in [
            (
                "$filter=isTechnician eq true",
                "$filter=isTechnician eq false",
            ),
            ("$filter=email eq null", "$filter=email ne null"),
            ("$filter=1 eq 1", "$filter=1 eq 2"),
            ("$filter=status in (1,2)", "$filter=status in (1,3)"),
            ("$top=1", "$top=2"),
            ("$select=name", "$select=email"),
        ] {
            assert_ne!(shape(a).unwrap().key, shape(b).unwrap().key, "{a} / {b}");
        }
    }

    #[test]
    fn anything_else_has_no_shape() {
        for q in [
            "$filter=contains(name,'x')",
            "$filter=status add 1 eq 2",
            "$filter=roles/any(r:r/roleKey eq 'x')",
            "$filter=name eq @a&@a='x'",
            "$expand=roles",
            "$search=x",
            "$count=true",
            "$compute=status add 1 as s",
            "$skiptoken=abc",
            "$apply=groupby((status))",
        ] {
            assert!(shape(q).is_none(), "{q}");
        }
        assert!(shape("$count=false&$filter=name eq 'x'").is_some());
    }

    #[test]
    fn perturbed_changes_every_parameter() {
        let q = odata_parser::parse_query(
            "$filter=id eq 6a1c0a64-3f3c-4c4e-9d8e-111111111111 and status eq 0 and name eq 'x'",
            &Default::default(),
        )
        .unwrap();
        let (a, b) = (
            Shape::of(&q).unwrap(),
            Shape::of(&Shape::perturbed(&q)).unwrap(),
        );
        assert_eq!(a.key, b.key);
        let (va, vb) = (a.values().unwrap(), b.values().unwrap());
        assert!(va.iter().zip(&vb).all(|(x, y)| x != y));
    }

    #[test]
    fn derive_needs_every_changed_value_explained_once() {
        let t1 = Value::from(1i64);
        let t2 = Value::from(2i64);
        let (p1, p2) = (vec![Value::from("a")], vec![Value::from("az")]);
        let a = Instance {
            sql: "S",
            values: &[t1.clone(), Value::from("a"), Value::from(10i64)],
            params: &p1,
            tenant: &t1,
        };
        let b = Instance {
            sql: "S",
            values: &[t2.clone(), Value::from("az"), Value::from(10i64)],
            params: &p2,
            tenant: &t2,
        };
        let t = Template::derive(a, b).unwrap();
        assert_eq!(
            t.slots,
            vec![
                Slot::Tenant,
                Slot::Param(0),
                Slot::Const(Value::from(10i64))
            ]
        );
        assert_eq!(
            t.bind(&[Value::from("q")], &Value::from(9i64)).unwrap(),
            vec![Value::from(9i64), Value::from("q"), Value::from(10i64)]
        );
        // A value computed from the literal ('%a%') is not explained.
        let c = Instance {
            values: &[t1.clone(), Value::from("%a%"), Value::from(10i64)],
            ..a
        };
        let d = Instance {
            values: &[t2.clone(), Value::from("%az%"), Value::from(10i64)],
            ..b
        };
        assert!(Template::derive(c, d).is_none());
        // Different text: no template.
        assert!(Template::derive(a, Instance { sql: "T", ..b }).is_none());
    }
}
