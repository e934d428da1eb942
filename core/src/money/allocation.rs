//! The integer arithmetic behind [`Money::allocate`](super::Money::allocate):
//! weights at one common scale, and an exact `amount × weight ÷ total`.
//!
//! Owns nothing but these two functions. Must never round or overflow:
//! every step is exact in integers, or a typed error.

use rust_decimal::Decimal;

use crate::error::{Error, Result};

/// Non-negative `weights` as integers at one common scale (the largest
/// scale among them), so that their ratios are kept exactly.
pub(super) fn integer_weights(weights: &[Decimal]) -> Result<Vec<u128>> {
    let weights: Vec<Decimal> = weights.iter().map(Decimal::normalize).collect();
    let scale = weights.iter().map(Decimal::scale).max().unwrap_or(0);
    weights
        .iter()
        .map(|w| {
            let mantissa = w.mantissa().unsigned_abs();
            10u128
                .checked_pow(scale - w.scale())
                .and_then(|factor| mantissa.checked_mul(factor))
                .ok_or_else(|| {
                    Error::invalid(
                        "weights",
                        format!("weight {w} is too large to allocate at scale {scale}"),
                    )
                })
        })
        .collect()
}

/// `amount × weight ÷ total` as (quotient, remainder), exactly, for
/// `weight <= total`: binary long multiplication that keeps the running
/// product reduced modulo `total`, so nothing ever overflows.
pub(super) fn mul_div(amount: u64, weight: u128, total: u128) -> (u64, u128) {
    debug_assert!(weight <= total && total > 0);
    let (mut quotient, mut remainder) = (0u64, 0u128);
    for bit in (0..u64::BITS).rev() {
        // Double: the quotient stays at most the bits of `amount` seen so
        // far, and the remainder stays below `total`.
        quotient <<= 1;
        if remainder >= total - remainder {
            remainder -= total - remainder;
            quotient += 1;
        } else {
            remainder += remainder;
        }
        if amount >> bit & 1 == 1 {
            if remainder >= total - weight {
                remainder -= total - weight;
                quotient += 1;
            } else {
                remainder += weight;
            }
        }
    }
    (quotient, remainder)
}
