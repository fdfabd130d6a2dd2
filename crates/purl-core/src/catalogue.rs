//! Catalogue items, priced by the supplier.

use serde::{Deserialize, Serialize};

use crate::ids::{Category, ItemCode, Name};
use crate::money::Money;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CatalogueItem {
    pub code: ItemCode,
    pub name: Name,
    pub category: Category,
    pub lethal: bool,
    /// Always in USD: the supplier prices in its own currency.
    pub unit_price: Money,
    pub lead_time_days: u32,
    pub version: u64,
}
