//! Geography and geometry literal text (`sridLiteral geoLiteral`).

use super::lexical::punct_len;

/// Validator for the text of a geography/geometry literal:
/// `sridLiteral geoLiteral` (`fullPointLiteral`, `fullPolygonLiteral`, ...).
struct Geo<'s> {
    s: &'s [u8],
    i: usize,
}

impl Geo<'_> {
    fn fail<T>(&self) -> Result<T, usize> {
        Err(self.i)
    }
    fn kw(&mut self, k: &str) -> bool {
        let k = k.as_bytes();
        if self.s[self.i..].len() >= k.len()
            && self.s[self.i..self.i + k.len()].eq_ignore_ascii_case(k)
        {
            self.i += k.len();
            true
        } else {
            false
        }
    }
    fn p(&mut self, c: u8) -> Result<(), usize> {
        let n = punct_len(&self.s[self.i..], c);
        if n == 0 {
            return self.fail();
        }
        self.i += n;
        Ok(())
    }
    fn at(&self, c: u8) -> bool {
        punct_len(&self.s[self.i..], c) > 0
    }
    fn sp(&mut self) -> bool {
        if self.s.get(self.i) == Some(&b' ') {
            self.i += 1;
            true
        } else if self.s[self.i..].starts_with(b"%20") {
            self.i += 3;
            true
        } else {
            false
        }
    }
    fn double(&mut self) -> Result<(), usize> {
        let r = &self.s[self.i..];
        for k in ["NaN", "-INF", "INF"] {
            if r.starts_with(k.as_bytes()) {
                self.i += k.len();
                return Ok(());
            }
        }
        let mut j = 0;
        if j < r.len() && (r[j] == b'+' || r[j] == b'-') {
            j += 1;
        }
        let d = r[j..].iter().take_while(|c| c.is_ascii_digit()).count();
        if d == 0 {
            self.i += j;
            return self.fail();
        }
        j += d;
        if r.get(j) == Some(&b'.') {
            let d = r[j + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
            if d == 0 {
                self.i += j + 1;
                return self.fail();
            }
            j += 1 + d;
        }
        if matches!(r.get(j), Some(b'e' | b'E')) {
            j += 1;
            if j < r.len() && (r[j] == b'+' || r[j] == b'-') {
                j += 1;
            }
            let d = r[j..].iter().take_while(|c| c.is_ascii_digit()).count();
            if d == 0 {
                self.i += j;
                return self.fail();
            }
            j += d;
        }
        self.i += j;
        Ok(())
    }
    /// `positionLiteral = doubleValue SP doubleValue [ SP doubleValue ] [ SP doubleValue ]`
    fn position(&mut self) -> Result<(), usize> {
        self.double()?;
        if !self.sp() {
            return self.fail();
        }
        self.double()?;
        for _ in 0..2 {
            let save = self.i;
            if self.sp() {
                if self.double().is_err() {
                    self.i = save;
                    break;
                }
            } else {
                break;
            }
        }
        Ok(())
    }
    /// `OPEN positionLiteral *( COMMA positionLiteral ) CLOSE` with a minimum count.
    fn positions(&mut self, min: usize) -> Result<(), usize> {
        self.p(b'(')?;
        let mut n = 0;
        loop {
            self.position()?;
            n += 1;
            if self.at(b',') {
                self.p(b',')?;
                continue;
            }
            break;
        }
        if n < min {
            return self.fail();
        }
        self.p(b')')
    }
    fn polygon_data(&mut self) -> Result<(), usize> {
        self.p(b'(')?;
        loop {
            self.positions(1)?;
            if self.at(b',') {
                self.p(b',')?;
                continue;
            }
            break;
        }
        self.p(b')')
    }
    /// `[ item *( COMMA item ) ] CLOSE` after an already read OPEN.
    fn list(&mut self, item: fn(&mut Self) -> Result<(), usize>) -> Result<(), usize> {
        if self.at(b')') {
            return self.p(b')');
        }
        loop {
            item(self)?;
            if self.at(b',') {
                self.p(b',')?;
                continue;
            }
            break;
        }
        self.p(b')')
    }
    fn geo_literal(&mut self, depth: usize) -> Result<(), usize> {
        if depth > 32 {
            return self.fail();
        }
        if self.kw("GeometryCollection") {
            self.p(b'(')?;
            loop {
                self.geo_literal(depth + 1)?;
                if self.at(b',') {
                    self.p(b',')?;
                    continue;
                }
                break;
            }
            self.p(b')')
        } else if self.kw("MultiLineString") {
            self.p(b'(')?;
            self.list(|g| g.positions(2))
        } else if self.kw("MultiPoint") {
            self.p(b'(')?;
            self.list(|g| g.positions(1))
        } else if self.kw("MultiPolygon") {
            self.p(b'(')?;
            self.list(Self::polygon_data)
        } else if self.kw("LineString") {
            self.positions(2)
        } else if self.kw("Point") {
            self.positions(1)
        } else if self.kw("Polygon") {
            self.polygon_data()
        } else {
            self.fail()
        }
    }
    /// `sridLiteral = "SRID" EQ 1*5DIGIT SEMI`, then a geo literal.
    fn full(&mut self) -> Result<(), usize> {
        if !self.kw("SRID") {
            return self.fail();
        }
        if self.s.get(self.i) != Some(&b'=') {
            return self.fail();
        }
        self.i += 1;
        let d = self.s[self.i..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        if d == 0 || d > 5 {
            self.i += d.min(5);
            return self.fail();
        }
        self.i += d;
        self.p(b';')?;
        self.geo_literal(0)?;
        if self.i != self.s.len() {
            return self.fail();
        }
        Ok(())
    }
}

pub(crate) fn geo_value(s: &[u8]) -> Result<(), usize> {
    Geo { s, i: 0 }.full()
}
