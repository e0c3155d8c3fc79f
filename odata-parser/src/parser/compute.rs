//! `$compute`.

use super::{PResult, Parser};
use crate::ast::{Compute, ComputeItem};

impl Parser<'_> {
    /// `computeItem *( COMMA computeItem )`; inside `$apply` commas may be
    /// surrounded by whitespace (`bws_commas`).
    pub(crate) fn compute_value(&mut self, bws_commas: bool) -> PResult<Compute> {
        let start = self.pos;
        let mut items = Vec::new();
        loop {
            items.push(self.compute_item()?);
            let save = self.pos;
            if bws_commas {
                self.bws();
            }
            if self.eat(b',') {
                if bws_commas {
                    self.bws();
                }
                continue;
            }
            self.pos = save;
            break;
        }
        Ok(Compute {
            items,
            span: self.span(start),
        })
    }

    /// `computeItem = commonExpr RWS "as" RWS computedProperty`
    fn compute_item(&mut self) -> PResult<ComputeItem> {
        let start = self.pos;
        let expr = self.common_expr()?;
        let alias = self.as_alias()?;
        Ok(ComputeItem {
            expr,
            alias,
            span: self.span(start),
        })
    }

    /// `RWS "as" RWS odataIdentifier`
    pub(crate) fn as_alias(&mut self) -> PResult<crate::ast::Ident> {
        if !self.rws() {
            return Err(self.fail("whitespace"));
        }
        if !self.eat_kw("as") {
            return Err(self.fail("'as'"));
        }
        if !self.rws() {
            return Err(self.fail("whitespace"));
        }
        self.ident("alias")
    }
}
