//! The corporate archive through the user handle: saved with a version check, checked by
//! kam-core, corporate customers only, audited; read through reach.

use kam_core::profile::{CorporateProfile, CreditCode, Listing, MainBank};
use kam_store::{Error, Store};

use crate::fixture::{build, scope};

crate::on_both_backends!(an_archive_is_saved_versioned_checked_and_audited);

async fn an_archive_is_saved_versioned_checked_and_audited(store: Store) {
    let f = build(&store).await;
    let rm = scope(&store, "rm.corp.a").await;
    assert_eq!(rm.corporate_profile(f.c_corp_a).await.unwrap(), None);
    let profile = CorporateProfile {
        legal_representative: Some("张三".into()),
        listing: Some(Listing::PreListing),
        employees: Some(1_200),
        our_share_percent: Some(40),
        main_banks: vec![MainBank {
            name: "工商银行".into(),
            share_percent: 35,
        }],
        credit_code: Some(CreditCode::parse("91350100M000100Y43").unwrap()),
        ..CorporateProfile::default()
    };
    assert_eq!(
        rm.save_corporate_profile(f.c_corp_a, &profile, 0)
            .await
            .unwrap(),
        1
    );
    let stored = rm.corporate_profile(f.c_corp_a).await.unwrap().unwrap();
    assert_eq!((stored.profile, stored.version), (profile.clone(), 1));
    assert_eq!(stored.updated_by, "rm.corp.a");
    // A form opened at version 0 does not overwrite version 1.
    assert!(matches!(
        rm.save_corporate_profile(f.c_corp_a, &profile, 0).await,
        Err(Error::Conflict { .. })
    ));
    // kam-core's check names the field; nothing is written.
    let too_much = CorporateProfile {
        our_share_percent: Some(80),
        ..profile.clone()
    };
    assert!(matches!(
        rm.save_corporate_profile(f.c_corp_a, &too_much, 1).await,
        Err(Error::Invalid(e)) if e.field == "main_banks"
    ));
    assert_eq!(
        rm.corporate_profile(f.c_corp_a)
            .await
            .unwrap()
            .unwrap()
            .version,
        1
    );
    // Individuals have no corporate archive; a customer out of reach is not found.
    let retail = scope(&store, "president.a").await;
    assert!(matches!(
        retail
            .save_corporate_profile(f.c_retail_a, &profile, 0)
            .await,
        Err(Error::Invalid(_))
    ));
    let other = scope(&store, "rm.corp.c").await;
    assert!(matches!(
        other.corporate_profile(f.c_corp_a).await,
        Err(Error::NotFound { .. })
    ));
    let trail = store
        .audit_events(Some("corporate_profile"), 10)
        .await
        .unwrap();
    assert!(
        trail
            .iter()
            .any(|e| e.action == "edit" && e.detail == "version 1")
    );
}
