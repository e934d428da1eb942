//! Promo codes: amounts, and every reason a code does not apply.

mod pricing_support;

use chrono::{TimeZone, Utc};
use pricing_support::*;
use reservo::ids::RatePlanId;
use reservo::pricing::{
    DateRange, FeeBasis, Price, PriceUnit, PromoDiscount, PromoRedemption, QuoteRequest, RatePlan,
    RatePlanSpec, SlotStart, TaxBase, TaxInclusion, UsageLimit,
};

fn five_percent() -> PromoDiscount {
    PromoDiscount::Percent(pct("5"))
}

/// 100.00 a night, 7+ nights 10 % off, cleaning 60.00.
fn weekly_plan() -> RatePlan {
    let mut spec = nightly("100.00");
    spec.length_of_stay = vec![los("weekly", 7, percent_off("10"))];
    spec.fees = vec![fee("cleaning", "60.00", FeeBasis::PerBooking, true)];
    plan(spec)
}

fn week_with(redemption: PromoRedemption) -> QuoteRequest {
    stay(d(6, 1), d(6, 8), adults(2)).with_promo(redemption)
}

fn refusal(request: &QuoteRequest) -> String {
    let err = weekly_plan().quote(request).unwrap_err();
    assert_eq!(err.code(), "PROMO_NOT_APPLICABLE", "{err}");
    let total_err = weekly_plan().total(request).unwrap_err();
    assert_eq!(total_err.code(), err.code());
    err.to_string()
}

#[test]
fn percent_promo_discounts_the_accommodation_after_length_of_stay_not_fees() {
    let quote = weekly_plan()
        .quote(&week_with(redeem(promo("SPRING", five_percent()), 0)))
        .unwrap();
    assert_eq!(
        lines(&quote),
        [
            "base flex 7 x 100.00 = 700.00",
            "length_of_stay weekly 1 x -70.00 = -70.00",
            "promo SPRING 1 x -31.50 = -31.50",
            "fee cleaning 1 x 60.00 = 60.00"
        ]
    );
    assert_eq!(quote.lines()[2].description, "Promo SPRING: 5% off");
}

#[test]
fn fixed_promo_is_clamped_to_the_accommodation() {
    let big = promo("FREE", PromoDiscount::Fixed(eur("5000.00")));
    let quote = weekly_plan().quote(&week_with(redeem(big, 0))).unwrap();
    assert_eq!(lines(&quote)[2], "promo FREE 1 x -630.00 = -630.00");
    assert_eq!(quote.total().amount().to_string(), "60.00");
}

#[test]
fn code_matches_ignoring_case_and_spaces_but_not_another_code() {
    let mut redemption = redeem(promo("SPRING", five_percent()), 0);
    redemption.code = "  Spring ".into();
    assert!(weekly_plan().quote(&week_with(redemption.clone())).is_ok());
    redemption.code = "SUMMER".into();
    let reason = refusal(&week_with(redemption));
    assert!(
        reason.contains("\"SUMMER\"") && reason.contains("SPRING"),
        "{reason}"
    );
}

#[test]
fn usage_limit_allows_exactly_max_uses_bookings() {
    let mut limited = promo("FIRST3", five_percent());
    limited.usage_limit = UsageLimit::MaxUses(3.try_into().unwrap());
    assert!(
        weekly_plan()
            .quote(&week_with(redeem(limited.clone(), 2)))
            .is_ok()
    );
    let reason = refusal(&week_with(redeem(limited, 3)));
    assert!(
        reason.contains("limit of 3 uses is reached (3 used)"),
        "{reason}"
    );
}

#[test]
fn booking_date_must_be_in_the_booking_window() {
    let mut early_bird = promo("EARLY", five_percent());
    early_bird.booking_window = Some(DateRange::new(d(1, 1), d(2, 28)).unwrap());
    let mut request = week_with(redeem(early_bird, 0));
    request.booking_date = d(2, 28);
    assert!(weekly_plan().quote(&request).is_ok());
    request.booking_date = d(3, 1);
    let reason = refusal(&request);
    assert!(reason.contains("2026-03-01"), "{reason}");
}

#[test]
fn every_night_must_be_in_the_stay_window() {
    let mut june = promo("JUNE", five_percent());
    june.stay_window = Some(DateRange::new(d(6, 1), d(6, 30)).unwrap());
    let inside = stay(d(6, 23), d(7, 1), adults(2)).with_promo(redeem(june.clone(), 0));
    assert!(
        weekly_plan().quote(&inside).is_ok(),
        "last night is 30 June"
    );
    let across = stay(d(6, 24), d(7, 2), adults(2)).with_promo(redeem(june, 0));
    let reason = refusal(&across);
    assert!(reason.contains("2026-07-01"), "{reason}");
}

#[test]
fn stay_must_reach_the_minimum_nights() {
    let mut long = promo("LONG", five_percent());
    long.min_nights = Some(8.try_into().unwrap());
    let reason = refusal(&week_with(redeem(long.clone(), 0)));
    assert!(reason.contains("at least 8 nights"), "{reason}");
    // A week is exactly seven nights: a minimum of seven is met.
    long.min_nights = Some(7.try_into().unwrap());
    let quote = weekly_plan().quote(&week_with(redeem(long, 0))).unwrap();
    assert!(lines(&quote).iter().any(|l| l.starts_with("promo LONG")));
}

#[test]
fn the_first_failing_check_is_the_reason() {
    let mut everything_wrong = promo("X", five_percent());
    everything_wrong.usage_limit = UsageLimit::MaxUses(1.try_into().unwrap());
    everything_wrong.min_nights = Some(30.try_into().unwrap());
    let reason = refusal(&week_with(redeem(everything_wrong, 1)));
    assert!(reason.contains("limit of 1 uses"), "{reason}");
}

#[test]
fn fixed_promo_in_another_currency_is_a_currency_mismatch() {
    let dollars = promo(
        "USD10",
        PromoDiscount::Fixed(Price::parse("10", "USD").unwrap()),
    );
    let err = weekly_plan()
        .quote(&week_with(redeem(dollars, 0)))
        .unwrap_err();
    assert_eq!(err.code(), "CURRENCY_MISMATCH");
}

#[test]
fn slot_promo_windows_use_the_slots_local_date() {
    let spec = RatePlanSpec::new(
        RatePlanId::new("tour").unwrap(),
        "Tour",
        PriceUnit::Slot,
        eur("40.00"),
    );
    let tour = plan(spec);
    let mut may = promo("MAY", five_percent());
    may.stay_window = Some(DateRange::new(d(5, 1), d(5, 31)).unwrap());
    let tokyo: chrono_tz::Tz = "Asia/Tokyo".parse().unwrap();
    // 16:00 UTC on 31 May is 01:00 on 1 June in Tokyo.
    let start = Utc.with_ymd_and_hms(2026, 5, 31, 16, 0, 0).unwrap();
    let request = QuoteRequest::slot(SlotStart::in_zone(start, tokyo), adults(1), d(5, 1))
        .with_promo(redeem(may, 0));
    assert_eq!(
        tour.quote(&request).unwrap_err().code(),
        "PROMO_NOT_APPLICABLE"
    );
}

#[test]
fn promo_lowers_the_taxes_on_the_accommodation() {
    let mut spec = nightly("100.00");
    spec.taxes = vec![tax(
        "city",
        "10",
        TaxInclusion::Exclusive,
        TaxBase::Accommodation,
    )];
    let half = promo("HALF", PromoDiscount::Percent(pct("50")));
    let request = stay(d(6, 1), d(6, 3), adults(1)).with_promo(redeem(half, 0));
    let quote = plan(spec).quote(&request).unwrap();
    assert_eq!(totals(&quote), ["110.00", "100.00", "10.00", "0.00"]);
}
