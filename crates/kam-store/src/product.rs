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
    /// The bank's product catalogue (not customer data: every role that serves customers names
    /// products on an opportunity).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn products(&self) -> Result<Vec<Product>> {
        self.store().list_products().await
    }

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

/// An account of a customer opened or closed on a day (the pre-visit brief's "products opened or
/// closed since the last visit").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountEvent {
    pub product: String,
    /// The account number's last four digits (enough to tell accounts apart on paper).
    pub account_tail: String,
    pub opened_on: chrono::NaiveDate,
    pub closed_on: Option<chrono::NaiveDate>,
}

impl UserStore {
    /// A customer in reach's accounts opened or closed on or after `since`, latest first.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn account_events(
        &self,
        customer_id: CustomerId,
        since: chrono::NaiveDate,
    ) -> Result<Vec<AccountEvent>> {
        self.customer(customer_id).await?;
        let since = since.to_string();
        let rows = Sql::new(
            "select p.name, a.account_no, a.opened_on, a.closed_on from account a \
             join product p on p.id = a.product_id where a.customer_id = ",
        )
        .bind(customer_id.0)
        .push(" and (a.opened_on >= ")
        .bind(since.clone())
        .push(" or a.closed_on >= ")
        .bind(since)
        .push(") order by coalesce(a.closed_on, a.opened_on) desc, a.account_no")
        .query()
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|row| {
                let number: String = row.try_get("account_no")?;
                let tail: String = number
                    .chars()
                    .rev()
                    .take(4)
                    .collect::<Vec<_>>()
                    .into_iter()
                    .rev()
                    .collect();
                Ok(AccountEvent {
                    product: row.try_get("name")?,
                    account_tail: tail,
                    opened_on: parse_date("opened_on", &row.try_get::<String, _>("opened_on")?)?,
                    closed_on: row
                        .try_get::<Option<String>, _>("closed_on")?
                        .map(|d| parse_date("closed_on", &d))
                        .transpose()?,
                })
            })
            .collect()
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

/// One side of a payroll link as the 360 lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PayrollPerson {
    pub cif_no: String,
    pub name: String,
    pub monthly_amount: Money,
    pub since: chrono::NaiveDate,
    /// Whether the reader may open this customer (a link), or only knows of it.
    pub in_reach: bool,
}

/// Who a customer pays and who pays them through the bank (代发工资).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PayrollPeople {
    /// As employer: the employees in the reader's reach (personal data: nobody else's).
    pub employees: Vec<PayrollPerson>,
    /// As employee: every employer, by name — a company's name is what the employee's RM
    /// needs to know where the salary comes from — with a link only to those in reach.
    pub employers: Vec<PayrollPerson>,
}

impl UserStore {
    /// The payroll of a customer in reach, both ways (`NotFound` out of reach): its employees in
    /// reach, and its employers (named; linked when in reach).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn payroll_people(&self, customer_id: CustomerId) -> Result<PayrollPeople> {
        self.customer(customer_id).await?;
        self.payroll_people_unchecked(customer_id, true, true).await
    }

    /// The payroll of a customer already proven in reach (the 360's head), reading only the
    /// sides the head counted links on: most customers have none, and a statement not run is
    /// the cheapest.
    pub(crate) async fn payroll_people_unchecked(
        &self,
        customer_id: CustomerId,
        as_employer: bool,
        as_employee: bool,
    ) -> Result<PayrollPeople> {
        // Employees are read through the scope (all in reach); every employer is named, with
        // whether the reader reaches it as a column rather than one read per employer.
        let mut employees = self.visible_from(Sql::new(
            "select c.cif_no, c.name, p.monthly_amount_minor, p.currency, p.since, 1 as in_reach \
             from payroll_link p join customer c on c.id = p.employee_id",
        ));
        employees
            .push(" and p.employer_id = ")
            .bind(customer_id.0)
            .push(" order by p.monthly_amount_minor desc, c.cif_no");
        let mut employers = Sql::new(
            "select c.cif_no, c.name, p.monthly_amount_minor, p.currency, p.since, case when ",
        );
        self.restrict(&mut employers, "c");
        employers
            .push(
                " then 1 else 0 end as in_reach \
                 from payroll_link p join customer c on c.id = p.employer_id where p.employee_id = ",
            )
            .bind(customer_id.0)
            .push(" order by c.cif_no");
        let employees = self.payroll_rows(employees, as_employer).await?;
        let employers = self.payroll_rows(employers, as_employee).await?;
        Ok(PayrollPeople {
            employees,
            employers,
        })
    }

    /// The payroll people `sql` selects (with its `in_reach` column), when `wanted`.
    async fn payroll_rows(&self, sql: Sql, wanted: bool) -> Result<Vec<PayrollPerson>> {
        if !wanted {
            return Ok(Vec::new());
        }
        sql.query()
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(|row| {
                Ok(PayrollPerson {
                    cif_no: row.try_get("cif_no")?,
                    name: row.try_get("name")?,
                    monthly_amount: money(row, "monthly_amount_minor")?,
                    since: parse_date("since", &row.try_get::<String, _>("since")?)?,
                    in_reach: row.try_get::<i64, _>("in_reach")? == 1,
                })
            })
            .collect()
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
