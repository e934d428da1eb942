//! Each pricing rule alone, their precedence, and their combination.
//! Calendar: 2026-06-22 is a Monday, 2026-06-26 a Friday.

mod pricing_support;

use chrono::{TimeZone, Utc, Weekday};
use pricing_support::*;
use reservo::ids::RatePlanId;
use reservo::party::Party;
use reservo::pricing::{
    FeeBasis, PriceUnit, QuoteRequest, RatePlan, RatePlanSpec, Season, SlotStart, StayDiscount,
    WeekdayRate,
};

#[test]
fn base_price_prices_every_night_in_one_line() {
    let quote = plan(nightly("100.00"))
        .quote(&stay(d(6, 22), d(6, 25), adults(2)))
        .unwrap();
    assert_eq!(lines(&quote), ["base flex 3 x 100.00 = 300.00"]);
    assert_eq!(quote.total().to_string(), "300.00 EUR");
}

#[test]
fn weekday_rate_prices_nights_starting_on_its_weekdays() {
    let mut spec = nightly("100.00");
    spec.weekday_rates.push(weekend("120.00"));
    // Thursday to Monday: Thu and Sun at base, Fri and Sat at the weekend rate.
    let quote = plan(spec)
        .quote(&stay(d(6, 25), d(6, 29), adults(2)))
        .unwrap();
    assert_eq!(
        lines(&quote),
        [
            "base flex 2 x 100.00 = 200.00",
            "weekday weekend 2 x 120.00 = 240.00"
        ]
    );
    assert_eq!(quote.total().amount().to_string(), "440.00");
    assert_eq!(
        amounts(quote.nights()),
        ["100.00", "120.00", "120.00", "100.00"]
    );
}

#[test]
fn each_night_bears_its_rate_its_occupancy_and_its_share_of_discounts() {
    let mut spec = nightly("100.00");
    spec.weekday_rates.push(weekend("200.00"));
    spec.occupancy = Some(occupancy(2, "20.00", vec![]));
    spec.length_of_stay = vec![los("long", 3, percent_off("10"))];
    spec.fees = vec![fee("cleaning", "50.00", FeeBasis::PerBooking, false)];
    // Thursday to Sunday, four adults (two extra): nights of 140, 240 and
    // 240 before 10% off the 620 of accommodation; the fee is no night's.
    let quote = plan(spec)
        .quote(&stay(d(6, 25), d(6, 28), adults(4)))
        .unwrap();
    assert_eq!(quote.accommodation().amount().to_string(), "558.00");
    assert_eq!(amounts(quote.nights()), ["126.00", "216.00", "216.00"]);

    // Shares that do not divide evenly still add up to the cent.
    let mut spec = nightly("33.33");
    spec.length_of_stay = vec![los("long", 2, percent_off("7"))];
    let quote = plan(spec)
        .quote(&stay(d(6, 1), d(6, 4), adults(1)))
        .unwrap();
    let sum: rust_decimal::Decimal = quote.nights().iter().map(|n| n.amount()).sum();
    assert_eq!(sum, quote.accommodation().amount());
    assert_eq!(amounts(quote.nights()), ["31.00", "31.00", "30.99"]);
}

#[test]
fn season_beats_weekday_rate_which_beats_base() {
    let mut spec = nightly("100.00");
    spec.weekday_rates.push(weekend("120.00"));
    spec.seasons
        .push(season("peak", d(6, 27), d(6, 28), "150.00"));
    // Fri (weekend), Sat (weekend and season: season), Sun (season), Mon (base).
    let quote = plan(spec)
        .quote(&stay(d(6, 26), d(6, 30), adults(2)))
        .unwrap();
    assert_eq!(
        lines(&quote),
        [
            "weekday weekend 1 x 120.00 = 120.00",
            "season peak 2 x 150.00 = 300.00",
            "base flex 1 x 100.00 = 100.00"
        ]
    );
}

#[test]
fn narrowest_season_wins_over_a_wider_one_with_higher_priority() {
    let mut spec = nightly("100.00");
    let mut summer = season("summer", d(6, 1), d(8, 31), "150.00");
    summer.priority = 10;
    spec.seasons = vec![summer, season("festival", d(6, 23), d(6, 24), "300.00")];
    let quote = plan(spec)
        .quote(&stay(d(6, 22), d(6, 25), adults(1)))
        .unwrap();
    assert_eq!(
        lines(&quote),
        [
            "season summer 1 x 150.00 = 150.00",
            "season festival 2 x 300.00 = 600.00"
        ]
    );
}

#[test]
fn declared_priority_breaks_ties_between_seasons_of_equal_length() {
    let mut spec = nightly("100.00");
    let early = season("early", d(6, 20), d(6, 24), "110.00");
    let mut late = season("late", d(6, 22), d(6, 26), "130.00");
    late.priority = 1;
    spec.seasons = vec![early, late];
    let quote = plan(spec)
        .quote(&stay(d(6, 21), d(6, 23), adults(1)))
        .unwrap();
    assert_eq!(
        lines(&quote),
        [
            "season early 1 x 110.00 = 110.00",
            "season late 1 x 130.00 = 130.00"
        ]
    );
}

#[test]
fn list_order_of_seasons_never_changes_the_quote() {
    let seasons = vec![
        season("summer", d(6, 1), d(8, 31), "150.00"),
        season("festival", d(6, 23), d(6, 24), "300.00"),
        Season {
            priority: 2,
            ..season("promo-week", d(6, 20), d(6, 26), "90.00")
        },
    ];
    let request = stay(d(6, 19), d(6, 28), adults(2));
    let quote_with = |seasons: Vec<Season>| {
        let mut spec = nightly("100.00");
        spec.seasons = seasons;
        plan(spec).quote(&request).unwrap()
    };
    let forward = quote_with(seasons.clone());
    let mut reversed = seasons.clone();
    reversed.reverse();
    assert_eq!(quote_with(reversed), forward);
    assert_eq!(
        lines(&forward),
        [
            // nights 19 and 27 June; 20-22, 25, 26; 23 and 24
            "season summer 2 x 150.00 = 300.00",
            "season promo-week 5 x 90.00 = 450.00",
            "season festival 2 x 300.00 = 600.00"
        ]
    );
}

#[test]
fn overlapping_seasons_of_equal_length_and_priority_are_refused() {
    let mut spec = nightly("100.00");
    spec.seasons = vec![
        season("a", d(6, 1), d(6, 10), "110.00"),
        season("b", d(6, 5), d(6, 14), "120.00"),
    ];
    let err = RatePlan::new(spec).unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT");
    assert!(err.to_string().contains("a and b"), "{err}");
}

#[test]
fn length_of_stay_applies_the_tier_taking_most_off_the_accommodation() {
    let mut spec = nightly("100.00");
    spec.length_of_stay = vec![
        los("weekly", 7, percent_off("10")),
        los("monthly", 28, percent_off("25")),
    ];
    let plan = plan(spec);
    let six = plan.quote(&stay(d(6, 1), d(6, 7), adults(2))).unwrap();
    assert_eq!(six.total().amount().to_string(), "600.00");
    let seven = plan.quote(&stay(d(6, 1), d(6, 8), adults(2))).unwrap();
    assert_eq!(
        lines(&seven),
        [
            "base flex 7 x 100.00 = 700.00",
            "length_of_stay weekly 1 x -70.00 = -70.00"
        ]
    );
    let month = plan.total(&stay(d(6, 1), d(6, 29), adults(2))).unwrap();
    assert_eq!(month.amount().to_string(), "2100.00"); // 2800 - 25 %
}

#[test]
fn fixed_length_of_stay_discount_is_per_night_and_clamped() {
    let mut spec = nightly("30.00");
    spec.length_of_stay = vec![los("long", 3, StayDiscount::FixedPerNight(eur("10.00")))];
    spec.fees = vec![fee("cleaning", "50.00", FeeBasis::PerBooking, false)];
    let quote = plan(spec.clone())
        .quote(&stay(d(6, 1), d(6, 4), adults(1)))
        .unwrap();
    assert_eq!(
        lines(&quote),
        [
            "base flex 3 x 30.00 = 90.00",
            "length_of_stay long 3 x -10.00 = -30.00",
            "fee cleaning 1 x 50.00 = 50.00"
        ]
    );
    // 40 off a 30.00 night: the accommodation goes to zero, the fee stays.
    spec.length_of_stay[0].discount = StayDiscount::FixedPerNight(eur("40.00"));
    let quote = plan(spec)
        .quote(&stay(d(6, 1), d(6, 4), adults(1)))
        .unwrap();
    assert_eq!(lines(&quote)[1], "length_of_stay long 1 x -90.00 = -90.00");
    assert_eq!(quote.total().amount().to_string(), "50.00");
}

#[test]
fn occupancy_charges_extra_adults_and_children_by_age_band() {
    let mut spec = nightly("100.00");
    spec.occupancy = Some(occupancy(
        2,
        "25.00",
        vec![band("infant", 0, 2, "0"), band("child", 3, 11, "15.00")],
    ));
    let plan = plan(spec);
    let two = plan.quote(&stay(d(6, 1), d(6, 3), adults(2))).unwrap();
    assert_eq!(lines(&two), ["base flex 2 x 100.00 = 200.00"]);
    // 3 adults, a 14-year-old (priced as an adult), a 5-year-old and a baby.
    let family = Party::new(3, vec![14, 5, 1]).unwrap();
    let quote = plan.quote(&stay(d(6, 1), d(6, 3), family)).unwrap();
    assert_eq!(
        lines(&quote),
        [
            "base flex 2 x 100.00 = 200.00",
            "occupancy extra_adult 4 x 25.00 = 100.00",
            "occupancy child 2 x 15.00 = 30.00"
        ]
    );
    let reordered = Party::new(3, vec![1, 5, 14]).unwrap();
    assert_eq!(
        plan.quote(&stay(d(6, 1), d(6, 3), reordered)).unwrap(),
        quote
    );
}

#[test]
fn a_band_for_every_child_age_prices_each_child_by_its_own_band() {
    // The most bands a plan can have: one for each age from 0 to 17.
    let bands: Vec<_> = (0..=17u8)
        .map(|age| band(&format!("age{age}"), age, age, &format!("{}.00", age + 1)))
        .collect();
    assert!(bands[4].includes(4));
    assert!(!bands[4].includes(3) && !bands[4].includes(5));
    let mut spec = nightly("100.00");
    spec.occupancy = Some(occupancy(1, "25.00", bands));
    let party = Party::new(1, vec![17, 0, 9]).unwrap();
    let quote = plan(spec).quote(&stay(d(6, 1), d(6, 2), party)).unwrap();
    assert_eq!(
        lines(&quote),
        [
            "base flex 1 x 100.00 = 100.00",
            "occupancy age0 1 x 1.00 = 1.00",
            "occupancy age9 1 x 10.00 = 10.00",
            "occupancy age17 1 x 18.00 = 18.00"
        ]
    );
}

#[test]
fn fees_are_charged_per_booking_night_guest_or_guest_night() {
    let party = Party::new(2, vec![4]).unwrap(); // 3 guests
    let expected = [
        "1 x 10.00 = 10.00",
        "4 x 10.00 = 40.00",
        "3 x 10.00 = 30.00",
        "12 x 10.00 = 120.00",
    ];
    for (basis, shown) in all_fee_bases().into_iter().zip(expected) {
        let mut spec = nightly("0");
        spec.fees = vec![fee("f", "10.00", basis, false)];
        let quote = plan(spec)
            .quote(&stay(d(6, 1), d(6, 5), party.clone()))
            .unwrap();
        assert_eq!(lines(&quote)[1], format!("fee f {shown}"), "{basis:?}");
    }
}

#[test]
fn free_nights_are_shown_and_zero_fees_are_left_out() {
    let mut spec = nightly("0");
    spec.fees = vec![fee("free-linen", "0", FeeBasis::PerGuest, true)];
    let quote = plan(spec)
        .quote(&stay(d(6, 1), d(6, 3), adults(2)))
        .unwrap();
    assert_eq!(lines(&quote), ["base flex 2 x 0.00 = 0.00"]);
    assert_eq!(amounts(quote.nights()), ["0.00", "0.00"]);
    assert!(quote.total().is_zero());
}

fn yoga_class() -> RatePlanSpec {
    let mut spec = RatePlanSpec::new(
        RatePlanId::new("drop-in").unwrap(),
        "Drop-in",
        PriceUnit::Slot,
        eur("20.00"),
    );
    spec.weekday_rates.push(WeekdayRate {
        id: id("sunday"),
        name: "Sunday".into(),
        weekdays: vec![Weekday::Sun],
        price: eur("25.00"),
    });
    // Sold by the seat: one guest included, each further guest pays a seat.
    spec.occupancy = Some(occupancy(1, "20.00", vec![band("kid", 6, 15, "10.00")]));
    spec
}

#[test]
fn slot_is_priced_by_its_local_date_and_weekday() {
    let plan = plan(yoga_class());
    let sydney: chrono_tz::Tz = "Australia/Sydney".parse().unwrap();
    // 22:00 UTC on Saturday 27 June is 08:00 on Sunday 28 June in Sydney.
    let start = Utc.with_ymd_and_hms(2026, 6, 27, 22, 0, 0).unwrap();
    let party = Party::new(2, vec![8]).unwrap();
    let request = QuoteRequest::slot(SlotStart::in_zone(start, sydney), party, d(6, 1));
    let quote = plan.quote(&request).unwrap();
    assert_eq!(
        lines(&quote),
        [
            "weekday sunday 1 x 25.00 = 25.00",
            "occupancy extra_adult 1 x 20.00 = 20.00",
            "occupancy kid 1 x 10.00 = 10.00"
        ]
    );
    assert!(quote.nights().is_empty(), "a session has no nights");
}

#[test]
fn plan_refuses_the_other_kind_of_item() {
    let slot_plan = plan(yoga_class());
    let err = slot_plan
        .quote(&stay(d(6, 1), d(6, 2), adults(1)))
        .unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT");
    assert!(err.to_string().contains("prices slots"), "{err}");
    let start = Utc.with_ymd_and_hms(2026, 6, 27, 9, 0, 0).unwrap();
    let request = QuoteRequest::slot(SlotStart::new(start, d(6, 27)).unwrap(), adults(1), d(6, 1));
    let err = plan(nightly("100.00")).total(&request).unwrap_err();
    assert_eq!(err.code(), "INVALID_INPUT");
}

#[test]
fn length_of_stay_tiers_on_a_slot_plan_are_refused() {
    let mut spec = yoga_class();
    spec.length_of_stay
        .push(los("weekly", 7, percent_off("10")));
    assert_eq!(RatePlan::new(spec).unwrap_err().code(), "INVALID_INPUT");
}

#[test]
fn rules_combine_in_the_documented_order() {
    let mut spec = nightly("80.00");
    spec.weekday_rates.push(weekend("100.00"));
    spec.length_of_stay = vec![los("four", 4, StayDiscount::FixedPerNight(eur("5.00")))];
    spec.occupancy = Some(occupancy(2, "20.00", vec![band("child", 0, 11, "10.00")]));
    spec.fees = vec![
        fee("cleaning", "40.00", FeeBasis::PerBooking, true),
        fee("towels", "2.50", FeeBasis::PerGuestPerNight, false),
    ];
    // Thursday 25 June, 4 nights, 2 adults and a child of 6.
    let quote = plan(spec)
        .quote(&stay(d(6, 25), d(6, 29), Party::new(2, vec![6]).unwrap()))
        .unwrap();
    assert_eq!(
        lines(&quote),
        [
            "base flex 2 x 80.00 = 160.00",
            "weekday weekend 2 x 100.00 = 200.00",
            "occupancy child 4 x 10.00 = 40.00",
            "length_of_stay four 4 x -5.00 = -20.00",
            "fee cleaning 1 x 40.00 = 40.00",
            "fee towels 12 x 2.50 = 30.00"
        ]
    );
    assert_eq!(totals(&quote), ["450.00", "450.00", "0.00", "0.00"]);
}
