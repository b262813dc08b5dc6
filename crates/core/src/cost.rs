//! The monthly storage cost estimate: the real sizes from the registry (the good backups kept
//! under retention, the documents' total) priced with the provider's published list prices.
//!
//! No network calls: the prices are one dated table below.

use serde::Serialize;
use time::{Duration, OffsetDateTime};

use crate::config::{CloudProvider, Settings};
use crate::registry::{backups, documents, Registry};
use crate::Result;

/// When the prices in [`PRICES`] were taken.
pub const PRICES_AS_OF: &str = "2026-01";
/// The currency of [`PRICES`].
pub const CURRENCY: &str = "USD";

/// A storage tier with its published price.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Price {
    pub provider: CloudProvider,
    pub tier: &'static str,
    pub region: &'static str,
    /// USD per GB (2^30 bytes) per month, first pricing band.
    pub per_gb_month: f64,
}

/// Published per-GB-month list prices, first band, as of [`PRICES_AS_OF`]: AWS S3 in us-east-1
/// (aws.amazon.com/s3/pricing), Azure Blob LRS in East US (azure.microsoft.com/pricing/details/
/// storage/blobs). List prices change: REVIEW THIS TABLE before relying on the estimate.
/// Requests, retrieval, early-deletion and transfer charges are not included.
pub const PRICES: &[Price] = &[
    Price {
        provider: CloudProvider::Aws,
        tier: "S3 Standard",
        region: "us-east-1",
        per_gb_month: 0.023,
    },
    Price {
        provider: CloudProvider::Aws,
        tier: "S3 Glacier Flexible Retrieval",
        region: "us-east-1",
        per_gb_month: 0.0036,
    },
    Price {
        provider: CloudProvider::Aws,
        tier: "S3 Glacier Deep Archive",
        region: "us-east-1",
        per_gb_month: 0.00099,
    },
    Price {
        provider: CloudProvider::Azure,
        tier: "Blob Hot (LRS)",
        region: "East US",
        per_gb_month: 0.0184,
    },
    Price {
        provider: CloudProvider::Azure,
        tier: "Blob Cool (LRS)",
        region: "East US",
        per_gb_month: 0.01,
    },
    Price {
        provider: CloudProvider::Azure,
        tier: "Blob Archive (LRS)",
        region: "East US",
        per_gb_month: 0.002,
    },
    Price {
        provider: CloudProvider::None,
        tier: "local disk",
        region: "this workstation",
        per_gb_month: 0.0,
    },
];

/// One priced line of the estimate.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CostItem {
    pub what: String,
    pub bytes: u64,
    pub gb: f64,
    pub tier: String,
    pub price_per_gb_month: f64,
    pub monthly: f64,
}

/// The monthly estimate for the configured provider.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CostEstimate {
    pub provider: String,
    pub currency: &'static str,
    pub as_of: &'static str,
    pub region: &'static str,
    pub retention_days: u32,
    pub archive_after_days: Option<u32>,
    pub items: Vec<CostItem>,
    pub total_monthly: f64,
    pub note: Option<String>,
}

/// The sizes the estimate is made from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sizes {
    /// Good backups younger than the archive age (or all kept ones when there is no archive).
    pub recent_backups: u64,
    /// Good backups older than the archive age (kept by a legal hold or a long retention).
    pub archived_backups: u64,
    /// The monthly archive copies when they are kept for the full `cloud.archive_years`: twelve
    /// a year at the newest backup's size (the steady state, not today's bill).
    pub archive_copies: u64,
    pub documents: u64,
}

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

fn price(provider: CloudProvider, tier: &str) -> &'static Price {
    PRICES
        .iter()
        .find(|p| p.provider == provider && p.tier == tier)
        .expect("every tier used by the estimate is in PRICES")
}

fn round4(v: f64) -> f64 {
    (v * 10_000.0).round() / 10_000.0
}

fn item(what: &str, bytes: u64, p: &Price) -> CostItem {
    let gb = bytes as f64 / GIB;
    CostItem {
        what: what.to_string(),
        bytes,
        gb: (gb * 1_000_000.0).round() / 1_000_000.0,
        tier: p.tier.to_string(),
        price_per_gb_month: p.per_gb_month,
        monthly: round4(gb * p.per_gb_month),
    }
}

/// Prices `sizes` for `provider` (pure arithmetic, no registry).
pub fn estimate_for(
    provider: CloudProvider,
    sizes: Sizes,
    retention_days: u32,
    archive_after_days: Option<u32>,
) -> CostEstimate {
    let (hot, archive, region, note) = match provider {
        CloudProvider::Aws => (
            price(provider, "S3 Standard"),
            // Strongroom archives to GLACIER (Flexible Retrieval), never to DEEP_ARCHIVE.
            price(provider, "S3 Glacier Flexible Retrieval"),
            "us-east-1",
            None,
        ),
        CloudProvider::Azure => (
            price(provider, "Blob Hot (LRS)"),
            price(provider, "Blob Archive (LRS)"),
            "East US",
            None,
        ),
        CloudProvider::None => {
            let p = price(provider, "local disk");
            (
                p,
                p,
                "this workstation",
                Some("No cloud provider: backups and documents stay on local disk, which costs nothing per month here; keep an off-site copy.".to_string()),
            )
        }
    };
    let mut items = vec![
        item("backups (recent)", sizes.recent_backups, hot),
        item("backups (archive)", sizes.archived_backups, archive),
    ];
    if sizes.archive_copies > 0 {
        items.push(item(
            "archive copies (one a month, at full term)",
            sizes.archive_copies,
            archive,
        ));
    }
    items.push(item("documents", sizes.documents, hot));
    let total = round4(items.iter().map(|i| i.monthly).sum());
    CostEstimate {
        provider: provider_name(provider).into(),
        currency: CURRENCY,
        as_of: PRICES_AS_OF,
        region,
        retention_days,
        archive_after_days,
        items,
        total_monthly: total,
        note,
    }
}

fn provider_name(p: CloudProvider) -> &'static str {
    match p {
        CloudProvider::Aws => "aws",
        CloudProvider::Azure => "azure",
        CloudProvider::None => "none",
    }
}

/// The sizes in the registry: good backups within the retention days (and held ones beyond it),
/// split at the archive age; all documents.
pub fn sizes(registry: &Registry, settings: &Settings, now: OffsetDateTime) -> Result<Sizes> {
    let retention = Duration::days(i64::from(settings.cloud.retention_days));
    let archive_after = settings
        .cloud
        .archive_after_days
        .map(|d| Duration::days(i64::from(d)));
    registry.read(|db| {
        let mut s = Sizes::default();
        let good = backups::good(db)?;
        if settings.cloud.archive_monthly {
            let newest = good
                .iter()
                .max_by_key(|b| b.created_at)
                .map_or(0, |b| b.size);
            s.archive_copies = newest * 12 * u64::from(settings.cloud.archive_years.max(1));
        }
        for b in good {
            let age = now - b.created_at;
            if age > retention && !b.held {
                continue; // the next retention run deletes it
            }
            match archive_after {
                Some(a) if age > a => s.archived_backups += b.size,
                _ => s.recent_backups += b.size,
            }
        }
        s.documents = documents::total_size(db)?;
        Ok(s)
    })
}

/// The estimate for the station's configured provider (`none` when cloud is off).
pub fn estimate(
    registry: &Registry,
    settings: &Settings,
    now: OffsetDateTime,
) -> Result<CostEstimate> {
    let provider = if settings.cloud.enabled {
        settings.cloud.provider
    } else {
        CloudProvider::None
    };
    let sizes = sizes(registry, settings, now)?;
    Ok(estimate_for(
        provider,
        sizes,
        settings.cloud.retention_days,
        settings.cloud.archive_after_days,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const GB: u64 = 1024 * 1024 * 1024;

    #[test]
    fn aws_prices_each_line_and_sums() {
        let e = estimate_for(
            CloudProvider::Aws,
            Sizes {
                recent_backups: 10 * GB,
                archived_backups: 100 * GB,
                documents: 50 * GB,
                ..Sizes::default()
            },
            30,
            Some(90),
        );
        assert_eq!(e.provider, "aws");
        assert_eq!(e.items[0].monthly, 0.23);
        assert_eq!(e.items[1].monthly, 0.36);
        assert_eq!(e.items[2].monthly, 1.15);
        assert_eq!(e.total_monthly, 1.74);
        assert_eq!(e.items[1].tier, "S3 Glacier Flexible Retrieval");
    }

    #[test]
    fn monthly_archive_copies_are_their_own_line_at_the_archive_price() {
        let e = estimate_for(
            CloudProvider::Aws,
            Sizes {
                recent_backups: GB,
                archive_copies: 12 * 7 * GB,
                ..Sizes::default()
            },
            30,
            None,
        );
        let line = e
            .items
            .iter()
            .find(|i| i.what.starts_with("archive copies"))
            .expect("an archive copies line");
        assert_eq!(line.tier, "S3 Glacier Flexible Retrieval");
        assert_eq!(line.monthly, 0.3024);
        assert_eq!(e.total_monthly, round4(0.023 + 0.3024));
    }

    #[test]
    fn azure_uses_hot_and_archive() {
        let e = estimate_for(
            CloudProvider::Azure,
            Sizes {
                recent_backups: 5 * GB,
                archived_backups: 10 * GB,
                documents: GB / 2,
                ..Sizes::default()
            },
            30,
            None,
        );
        assert_eq!(e.items[0].monthly, 0.092);
        assert_eq!(e.items[1].monthly, 0.02);
        assert_eq!(e.items[2].gb, 0.5);
        assert_eq!(e.items[2].monthly, 0.0092);
        assert_eq!(e.total_monthly, 0.1212);
    }

    #[test]
    fn local_disk_costs_nothing_with_a_note() {
        let e = estimate_for(
            CloudProvider::None,
            Sizes {
                recent_backups: 7 * GB,
                archived_backups: 0,
                documents: GB,
                ..Sizes::default()
            },
            30,
            None,
        );
        assert_eq!(e.total_monthly, 0.0);
        assert_eq!(e.items[0].gb, 7.0);
        assert!(e.note.is_some());
    }

    #[test]
    fn every_provider_has_a_price_row() {
        for p in [
            CloudProvider::Aws,
            CloudProvider::Azure,
            CloudProvider::None,
        ] {
            assert!(PRICES.iter().any(|r| r.provider == p));
        }
    }
}
