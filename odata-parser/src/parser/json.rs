//! JSON arrays and objects written in the URL (`arrayOrObject`).

use super::{PResult, Parser};
use crate::ast::*;

impl Parser<'_> {
    /// A JSON array or object in the URL (`arrayOrObject`).
    pub(super) fn json_expr(&mut self) -> PResult<Expr> {
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
            ExprKind::Literal(
                Literal::String(_)
                | Literal::Date(_)
                | Literal::DateTimeOffset(_)
                | Literal::TimeOfDay(_)
                | Literal::Duration(_)
                | Literal::Guid(_)
                | Literal::Binary(_)
                | Literal::Enum { .. }
                | Literal::Geo { .. },
            )
            | ExprKind::Path(_)
            | ExprKind::Lambda(_)
            | ExprKind::PathCount(_)
            | ExprKind::Alias(_)
            | ExprKind::Call(_)
            | ExprKind::Binary(_)
            | ExprKind::Unary(_)
            | ExprKind::In(_)
            | ExprKind::List(_) => JsonValue::Expr(Box::new(e)),
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
