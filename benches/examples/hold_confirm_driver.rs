//! A small driver of the `engine/hold_confirm` bench for instruction counts,
//! which stay comparable on a busy machine where wall times do not:
//!
//! ```text
//! cargo build --release -p reservo-benches --example hold_confirm_driver
//! valgrind --tool=callgrind target/release/examples/hold_confirm_driver 2000
//! ```
//!
//! Runs 200 warm-up pairs, then the number of pairs given (default 2,000),
//! and prints the wall time per pair.

use std::time::Instant;

use reservo_benches::{hold_and_confirm, hotel, runtime};

fn main() {
    let pairs: u64 = std::env::args()
        .nth(1)
        .map_or(2_000, |n| n.parse().expect("a number of pairs"));
    let rt = runtime();
    rt.block_on(async {
        let w = hotel().await;
        let mut started = Instant::now();
        for i in 0..200 + pairs {
            if i == 200 {
                started = Instant::now();
            }
            let booking = hold_and_confirm(&w.engine, i).await;
            std::hint::black_box(booking);
        }
        let per_pair = started.elapsed() / u32::try_from(pairs).expect("a small count");
        println!("{pairs} pairs, {per_pair:?} a pair");
    });
}
