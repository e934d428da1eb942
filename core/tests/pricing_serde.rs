//! Rate plans, requests and quotes as stored JSON: round trips, and
//! validation on the way in.

mod pricing_support;

use pricing_support::*;
use reservo::party::Party;
use reservo::pricing::{
    Fee, FeeBasis, Price, Quote, QuoteRequest, RatePlan, StayDiscount, TaxBase, TaxInclusion,
};

fn full_plan() -> RatePlan {
    let mut spec = nightly("100.00");
    spec.weekday_rates.push(weekend("120.00"));
    spec.seasons
        .push(season("summer", d(7, 1), d(8, 31), "150.00"));
    spec.length_of_stay = vec![los("weekly", 7, StayDiscount::FixedPerNight(eur("5.00")))];
    spec.occupancy = Some(occupancy(2, "25.00", vec![band("child", 3, 11, "15.00")]));
    spec.fees = vec![fee("cleaning", "60.00", FeeBasis::PerBooking, true)];
    spec.taxes = vec![tax(
        "vat",
        "10",
        TaxInclusion::Inclusive,
        TaxBase::AccommodationAndFees,
    )];
    plan(spec)
}

#[test]
fn rate_plan_round_trips_through_json_and_prices_the_same() {
    let plan = full_plan();
    let json = serde_json::to_string(&plan).unwrap();
    let back = RatePlan::from_json(&json).unwrap();
    assert_eq!(back, plan);
    let request = stay(d(6, 26), d(7, 4), Party::new(3, vec![5]).unwrap());
    assert_eq!(back.quote(&request).unwrap(), plan.quote(&request).unwrap());
}

#[test]
fn minimal_plan_json_needs_only_id_name_unit_and_base_price() {
    let plan = RatePlan::from_json(
        r#"{"id": "basic", "name": "Basic", "unit": "night",
            "base_price": {"amount": "80", "currency": "GBP"}}"#,
    )
    .unwrap();
    assert_eq!(plan.currency().code(), "GBP");
    assert!(plan.spec().taxes.is_empty());
}

#[test]
fn amounts_and_rates_in_json_are_strings_or_integers_never_floats() {
    let whole = RatePlan::from_json(
        r#"{"id": "p", "name": "P", "unit": "night",
            "base_price": {"amount": 80, "currency": "GBP"}}"#,
    )
    .unwrap();
    assert_eq!(whole.spec().base_price, Price::parse("80", "GBP").unwrap());
    let err = RatePlan::from_json(
        r#"{"id": "p", "name": "P", "unit": "night",
            "base_price": {"amount": 80.1, "currency": "GBP"}}"#,
    )
    .unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT");
    assert!(
        err.to_string()
            .contains(r#"the number 80.1 would be read as a float, which cannot hold most amounts exactly: write it as a string ("80.1")"#),
        "{err}"
    );

    let json = serde_json::to_string(&full_plan()).unwrap();
    assert!(json.contains(r#""rate":"10""#), "{json}");
    let as_integer = RatePlan::from_json(&json.replace(r#""rate":"10""#, r#""rate":10"#));
    assert_eq!(as_integer.unwrap(), full_plan());
    let as_float = RatePlan::from_json(&json.replace(r#""rate":"10""#, r#""rate":10.5"#));
    assert!(
        as_float
            .unwrap_err()
            .to_string()
            .contains("the number 10.5 would be read as a float"),
        "a tax rate as a JSON float"
    );
}

#[test]
fn negative_price_in_json_is_invalid_input_naming_the_value() {
    let err = RatePlan::from_json(
        r#"{"id": "p", "name": "P", "unit": "night",
            "base_price": {"amount": "-12.50", "currency": "EUR"}}"#,
    )
    .unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT");
    assert!(err.to_string().contains("-12.50 EUR"), "{err}");
}

#[test]
fn price_in_another_currency_is_a_currency_mismatch() {
    let json = r#"{"id": "p", "name": "P", "unit": "night",
        "base_price": {"amount": "100", "currency": "EUR"},
        "seasons": [{"id": "s", "name": "S", "dates": {"first": "2026-07-01", "last": "2026-07-31"},
                     "price": {"amount": "150", "currency": "USD"}}]}"#;
    let err = RatePlan::from_json(json).unwrap_err();
    assert_eq!(err.code(), "CURRENCY_MISMATCH");
    assert!(serde_json::from_str::<RatePlan>(json).is_err());

    let mut spec = nightly("100.00");
    spec.fees = vec![fee("cleaning", "60.00", FeeBasis::PerBooking, true)];
    spec.fees[0].amount = Price::parse("60.00", "GBP").unwrap();
    assert_eq!(RatePlan::new(spec).unwrap_err().code(), "CURRENCY_MISMATCH");

    let mut spec = nightly("100.00");
    let off = StayDiscount::FixedPerNight(Price::parse("10.00", "USD").unwrap());
    spec.length_of_stay = vec![los("week", 7, off)];
    let err = RatePlan::new(spec).unwrap_err();
    assert_eq!(err.code(), "CURRENCY_MISMATCH");
    assert!(err.to_string().contains("USD"), "{err}");
}

#[test]
fn misspelled_fields_are_refused_not_ignored() {
    let err = RatePlan::from_json(
        r#"{"id": "p", "name": "P", "unit": "night",
            "base_price": {"amount": "100", "currency": "EUR"},
            "taxs": []}"#,
    )
    .unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT");
    assert!(err.to_string().contains("taxs"), "{err}");
}

#[test]
fn rule_ids_are_unique_and_extra_adult_is_reserved() {
    let mut spec = nightly("100.00");
    spec.fees = vec![
        fee("cleaning", "10.00", FeeBasis::PerBooking, false),
        fee("cleaning", "20.00", FeeBasis::PerNight, false),
    ];
    let err = RatePlan::new(spec).unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT");
    assert!(err.to_string().contains("\"cleaning\""), "{err}");

    let mut spec = nightly("100.00");
    spec.occupancy = Some(occupancy(2, "10.00", vec![band("extra_adult", 0, 2, "0")]));
    assert_eq!(RatePlan::new(spec).unwrap_err().code(), "INVALID_INPUT");
}

#[test]
fn blank_names_and_zero_included_guests_are_refused() {
    let mut spec = nightly("100.00");
    spec.name = "  ".into();
    assert_eq!(RatePlan::new(spec).unwrap_err().code(), "INVALID_INPUT");
    let mut spec = nightly("100.00");
    spec.occupancy = Some(occupancy(0, "10.00", vec![]));
    assert_eq!(RatePlan::new(spec).unwrap_err().code(), "INVALID_INPUT");
}

#[test]
fn quote_round_trips_through_json() {
    let request = stay(d(6, 26), d(7, 4), Party::new(3, vec![5]).unwrap());
    let quote = full_plan().quote(&request).unwrap();
    let json = serde_json::to_string(&quote).unwrap();
    assert!(json.contains(r#""kind":"length_of_stay""#), "{json}");
    assert_eq!(serde_json::from_str::<Quote>(&json).unwrap(), quote);
}

#[test]
fn stored_quote_whose_totals_do_not_match_its_lines_is_refused() {
    let request = stay(d(6, 1), d(6, 3), adults(2));
    let quote = full_plan().quote(&request).unwrap();
    let mut value = serde_json::to_value(&quote).unwrap();
    value["total"]["amount"] = "1.00".into();
    assert!(serde_json::from_value::<Quote>(value).is_err());

    let mut value = serde_json::to_value(&quote).unwrap();
    value["lines"][0]["amount"]["amount"] = "999.00".into();
    assert!(serde_json::from_value::<Quote>(value).is_err());
}

#[test]
fn stored_quote_keeps_its_nights_as_amounts_and_reads_older_quotes_without_them() {
    let request = stay(d(6, 25), d(6, 28), adults(2));
    let quote = full_plan().quote(&request).unwrap();
    let mut value = serde_json::to_value(&quote).unwrap();
    // Thursday at the base price, Friday and Saturday at the weekend rate.
    assert_eq!(
        value["nights"],
        serde_json::json!(["100.00", "120.00", "120.00"])
    );
    assert_eq!(
        serde_json::from_value::<Quote>(value.clone()).unwrap(),
        quote
    );

    // Nights that do not add up to the accommodation are refused.
    value["nights"][0] = "90.00".into();
    let err = serde_json::from_value::<Quote>(value.clone()).unwrap_err();
    assert!(err.to_string().contains("accommodation"), "{err}");

    // A quote stored before quotes carried nights still reads, without them.
    value.as_object_mut().unwrap().remove("nights");
    let older = serde_json::from_value::<Quote>(value).unwrap();
    assert!(older.nights().is_empty());
    assert_eq!(older.total(), quote.total());
}

#[test]
fn a_non_refundable_fee_marks_its_quote_line_and_only_it_writes_the_flag() {
    let mut spec = nightly("100.00");
    spec.fees = vec![
        fee("cleaning", "60.00", FeeBasis::PerBooking, false),
        Fee {
            refundable: false,
            ..fee("service", "20.00", FeeBasis::PerBooking, false)
        },
    ];
    let plan = plan(spec);
    let json = serde_json::to_value(&plan).unwrap().to_string();
    assert_eq!(json.matches("refundable").count(), 1, "{json}");

    let quote = plan.quote(&stay(d(6, 1), d(6, 3), adults(2))).unwrap();
    let flags: Vec<(&str, bool)> = quote
        .lines()
        .iter()
        .map(|l| (l.rule.id.as_str(), l.refundable))
        .collect();
    assert_eq!(
        flags,
        [("flex", true), ("cleaning", true), ("service", false)]
    );
    let mut value = serde_json::to_value(&quote).unwrap();
    assert_eq!(value["lines"][2]["refundable"], false);
    assert!(value["lines"][1].get("refundable").is_none());
    assert_eq!(
        serde_json::from_value::<Quote>(value.clone()).unwrap(),
        quote
    );

    // Only a fee line may be non-refundable.
    value["lines"][0]["refundable"] = false.into();
    let err = serde_json::from_value::<Quote>(value).unwrap_err();
    assert!(err.to_string().contains("not a fee"), "{err}");
}

#[test]
fn quote_request_round_trips_and_validates_its_parts() {
    let request = stay(d(6, 1), d(6, 3), Party::new(2, vec![4]).unwrap()).with_promo(redeem(
        promo("SPRING", reservo::pricing::PromoDiscount::Percent(pct("5"))),
        3,
    ));
    let json = serde_json::to_string(&request).unwrap();
    assert_eq!(
        serde_json::from_str::<QuoteRequest>(&json).unwrap(),
        request
    );
    let bad_stay = json.replace("2026-06-03", "2026-05-30");
    assert!(serde_json::from_str::<QuoteRequest>(&bad_stay).is_err());
}
