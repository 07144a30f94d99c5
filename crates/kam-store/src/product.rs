//! Products (the catalogue), what customers hold and payroll links (代发工资). Reads of a
//! customer's holdings and payroll are on the user handle and answer `NotFound` for a customer
//! out of reach.

use kam_core::{
    id::{CustomerId, ProductId},
    money::{Currency, Money},
    org::Line,
    product::{Holding, NeedCategory, NewProduct, PayrollLink, Product, ProductRisk},
};
use sqlx::{Row, any::AnyRow};

use crate::{
    Actor, Result, Store, UserStore, audit, bulk::insert_one, customer::parse_date, org::corrupt,
    rows, sql::Sql,
};

fn product_from_row(row: &AnyRow) -> Result<Product> {
    Ok(Product {
        id: ProductId(row.try_get("id")?),
        code: row.try_get("code")?,
        name: row.try_get("name")?,
        line: Line::parse(&row.try_get::<String, _>("line")?).map_err(corrupt)?,
        need_category: NeedCategory::parse(&row.try_get::<String, _>("need_category")?)
            .map_err(corrupt)?,
        risk_level: ProductRisk::parse(&row.try_get::<String, _>("risk_level")?)
            .map_err(corrupt)?,
    })
}

fn holding_from_row(row: &AnyRow, customer_id: CustomerId) -> Result<Holding> {
    Ok(Holding {
        customer_id,
        product_id: ProductId(row.try_get("product_id")?),
        amount: money(row, "amount_minor")?,
        as_of: parse_date("as_of", &row.try_get::<String, _>("as_of")?)?,
    })
}

fn money(row: &AnyRow, amount: &str) -> Result<Money> {
    let currency = Currency::parse(&row.try_get::<String, _>("currency")?).map_err(corrupt)?;
    Ok(Money::from_minor(row.try_get(amount)?, currency))
}

impl Store {
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn create_product(&self, actor: &Actor, product: &NewProduct) -> Result<ProductId> {
        let mut tx = self.begin_write().await?;
        let row = rows::product(product, &audit::now());
        let id = insert_one(&mut tx, rows::PRODUCT.name, row, ("product", &product.code)).await?;
        audit::record(
            &mut tx,
            actor,
            "create",
            "product",
            &product.code,
            &product.name,
        )
        .await?;
        tx.commit().await?;
        Ok(ProductId(id))
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn list_products(&self) -> Result<Vec<Product>> {
        let rows = sqlx::query(
            "select id, code, name, line, need_category, risk_level from product order by code",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(product_from_row).collect()
    }
}

impl UserStore {
    /// The latest holdings of a customer (one row per product and currency, in product-code order).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn holdings(&self, customer_id: CustomerId) -> Result<Vec<Holding>> {
        self.customer(customer_id).await?;
        Ok(self
            .store()
            .held_products_unchecked(customer_id)
            .await?
            .into_iter()
            .map(|(holding, _)| holding)
            .collect())
    }
}

impl Store {
    /// The latest holdings of a customer with their products, once the caller has checked that
    /// the customer is in reach (the 360 shows product names; one query, not a product list).
    pub(crate) async fn held_products_unchecked(
        &self,
        customer_id: CustomerId,
    ) -> Result<Vec<(Holding, Product)>> {
        let rows = Sql::new("select h.customer_id, h.product_id, h.amount_minor, h.currency, h.as_of, \
             p.id, p.code, p.name, p.line, p.need_category, p.risk_level \
             from holding h join product p on p.id = h.product_id where h.customer_id = ")
            .bind(customer_id.0)
            .push(" and h.as_of = (select max(as_of) from holding where customer_id = h.customer_id) order by p.code, h.currency")
            .query()
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|row| Ok((holding_from_row(row, customer_id)?, product_from_row(row)?)))
            .collect()
    }
}

impl UserStore {
    /// Payroll links where the customer is employer or employee, limited to links whose other
    /// party is also in reach (a corporate RM sees how many employees, not who, via
    /// `payroll_totals`).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn payroll_links(&self, customer_id: CustomerId) -> Result<Vec<PayrollLink>> {
        self.customer(customer_id).await?;
        let mut head = Sql::new(
            "select p.employer_id, p.employee_id, p.monthly_amount_minor, p.currency, p.since from payroll_link p \
             join customer c on c.id = case when p.employer_id = ",
        );
        head.bind(customer_id.0)
            .push(" then p.employee_id else p.employer_id end");
        let mut sql = self.visible_from(head);
        sql.push(" and (p.employer_id = ")
            .bind(customer_id.0)
            .push(" or p.employee_id = ")
            .bind(customer_id.0)
            .push(")");
        sql.push(" order by p.employer_id, p.employee_id");
        let rows = sql.query().fetch_all(self.pool()).await?;
        rows.iter()
            .map(|row| {
                Ok(PayrollLink {
                    employer_id: CustomerId(row.try_get("employer_id")?),
                    employee_id: CustomerId(row.try_get("employee_id")?),
                    monthly_amount: money(row, "monthly_amount_minor")?,
                    since: parse_date("since", &row.try_get::<String, _>("since")?)?,
                })
            })
            .collect()
    }

    /// Number of employees paid through the bank by a visible employer and the monthly total in
    /// fen (CNY links only).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn payroll_totals(&self, employer_id: CustomerId) -> Result<(i64, i64)> {
        self.customer(employer_id).await?;
        let row = Sql::new("select count(*) as n, cast(coalesce(sum(monthly_amount_minor), 0) as bigint) as total from payroll_link where currency = 'CNY' and employer_id = ")
            .bind(employer_id.0)
            .query()
            .fetch_one(self.pool())
            .await?;
        // The cast matters: PostgreSQL sums bigint into numeric, which must not pass through a float.
        Ok((row.try_get("n")?, row.try_get("total")?))
    }
}

/// A customer's payroll (代发工资) at a glance: as employer, the employees paid through the bank
/// and their monthly total in CNY fen; as employee, how many employers in reach pay them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PayrollSummary {
    pub employees: i64,
    pub monthly_fen: i64,
    pub employers_in_reach: i64,
}
