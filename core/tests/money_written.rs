//! How amounts are written in JSON (records, events, `to_dict`): zero and
//! rounded amounts to the currency's minor unit, anything else as computed.

use reservo::money::{Currency, Money};
use rust_decimal_macros::dec;

fn eur(amount: &str) -> Money {
    Money::parse(amount, "EUR").unwrap()
}

fn written(money: Money) -> serde_json::Value {
    serde_json::to_value(money).unwrap()["amount"].clone()
}

/// A booking's split showed a platform fee of `"0"` beside taxes of
/// `"0.00"`: zero and rounded amounts are now written alike.
#[test]
fn rounded_amounts_and_zero_are_written_to_the_minor_unit() {
    assert_eq!(written(Money::zero(Currency::EUR)), "0.00");
    assert_eq!(written(Money::zero(Currency::JPY)), "0");
    let dinar = Currency::from_code("KWD").unwrap();
    assert_eq!(written(Money::zero(dinar)), "0.000");
    assert_eq!(written(eur("5").round_default()), "5.00");
    assert_eq!(written(eur("0").percent(dec!(10)).round_default()), "0.00");
    assert_eq!(written(eur("2.345").round_default()), "2.34");
    assert_eq!(written(eur("2.345")), "2.345", "unrounded: as given");
}

#[test]
fn an_amount_with_no_room_for_cents_keeps_its_value_when_rounded() {
    let huge = eur("79228162514264337593543950335");
    assert_eq!(huge.round_default(), huge);
}
