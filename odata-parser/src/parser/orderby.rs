//! `$orderby`.

use super::{PResult, Parser};
use crate::ast::{OrderBy, OrderByItem, SortDirection};

impl Parser<'_> {
    /// `orderbyItem *( COMMA orderbyItem )`; inside `$apply` commas may be
    /// surrounded by whitespace (`bws_commas`).
    pub(crate) fn orderby_value(&mut self, bws_commas: bool) -> PResult<OrderBy> {
        let start = self.pos;
        let mut items = Vec::new();
        loop {
            items.push(self.orderby_item()?);
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
        Ok(OrderBy {
            items,
            span: self.span(start),
        })
    }

    /// `orderbyItem = commonExpr [ RWS ( "asc" / "desc" ) ]`
    pub(crate) fn orderby_item(&mut self) -> PResult<OrderByItem> {
        let start = self.pos;
        let expr = self.common_expr()?;
        let save = self.pos;
        let mut direction = None;
        if self.rws() {
            if self.eat_kw("asc") {
                direction = Some(SortDirection::Asc);
            } else if self.eat_kw("desc") {
                direction = Some(SortDirection::Desc);
            } else {
                let _ = self.fail("asc or desc");
                self.pos = save;
            }
        }
        Ok(OrderByItem {
            expr,
            direction,
            span: self.span(start),
        })
    }
}
