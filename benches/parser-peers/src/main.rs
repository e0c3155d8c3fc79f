//! `parser-peers accept` prints which parser accepts which corpus entry;
//! `parser-peers dump` writes the corpus as JSON lines for the npm and
//! Python peers (`run.sh` uses both).

use odata_parser::ParserOptions;
use parser_peers::*;

/// Thread CPU time, with `Instant`'s interface.
struct Clock(std::time::Duration);

impl Clock {
    fn now() -> Self {
        Clock(cputime::now())
    }
    fn elapsed(&self) -> std::time::Duration {
        cputime::now() - self.0
    }
}

fn json_str(s: &str) -> String {
    let mut o = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

fn main() {
    let mode = std::env::args().nth(1).unwrap_or_default();
    let filters = filters();
    match mode.as_str() {
        "time" => {
            // Quick single-threaded timing (no Criterion): ns per byte by size.
            let o = ParserOptions::default();
            let mut buf = String::new();
            for p in Peer::ALL {
                for (name, f) in [
                    ("or_chain", or_chain as fn(usize) -> String),
                    ("in_list", in_list),
                ] {
                    for size in [100, 1000, 4000, 16000] {
                        let text = f(size);
                        if !p.parse_filter(&text, &o, &mut buf) {
                            continue;
                        }
                        let iters = (2_000_000 / text.len()).max(10);
                        let t = Clock::now();
                        for _ in 0..iters {
                            std::hint::black_box(p.parse_filter(
                                std::hint::black_box(&text),
                                &o,
                                &mut buf,
                            ));
                        }
                        let ns = t.elapsed().as_nanos() as f64 / iters as f64;
                        println!(
                            "{:<24} {name:<9} {:>6} B  {:>10.0} ns  {:>6.2} ns/B",
                            p.name(),
                            text.len(),
                            ns,
                            ns / text.len() as f64
                        );
                    }
                }
            }
        }
        "rounds" => {
            // Interleaved rounds over the common set; the best round of each
            // parser is the least disturbed by other work on a shared machine.
            let o = ParserOptions::default();
            let common = common(&filters);
            let mut buf = String::new();
            let mut best = [f64::MAX; 4];
            for _ in 0..40 {
                for (i, p) in Peer::ALL.iter().enumerate() {
                    let t = Clock::now();
                    for _ in 0..200 {
                        for f in &common {
                            std::hint::black_box(p.parse_filter(
                                std::hint::black_box(f),
                                &o,
                                &mut buf,
                            ));
                        }
                    }
                    let per = t.elapsed().as_secs_f64() / (200 * common.len()) as f64;
                    best[i] = best[i].min(per);
                }
            }
            println!(
                "| parser | expressions/s (best of 40 rounds, {} common expressions) | ns/expression |",
                common.len()
            );
            println!("| --- | ---: | ---: |");
            for (i, p) in Peer::ALL.iter().enumerate() {
                println!(
                    "| {} | {:.0} | {:.0} |",
                    p.name(),
                    1.0 / best[i],
                    best[i] * 1e9
                );
            }
            let fastest_peer = best[1..].iter().cloned().fold(f64::MAX, f64::min);
            println!("\nours / fastest Rust peer: {:.2}x", fastest_peer / best[0]);

            // Cost per byte by input length (best of 20 rounds).
            println!("\n| parser | input | bytes | ns/input | ns/byte |");
            println!("| --- | --- | ---: | ---: | ---: |");
            for p in Peer::ALL {
                for (name, f) in [
                    ("or_chain", or_chain as fn(usize) -> String),
                    ("in_list", in_list),
                ] {
                    for size in [100, 1000, 4000] {
                        let text = f(size);
                        if !p.parse_filter(&text, &o, &mut buf) {
                            continue;
                        }
                        let iters = (400_000 / text.len()).max(5);
                        let mut best = f64::MAX;
                        for _ in 0..20 {
                            let t = Clock::now();
                            for _ in 0..iters {
                                std::hint::black_box(p.parse_filter(
                                    std::hint::black_box(&text),
                                    &o,
                                    &mut buf,
                                ));
                            }
                            best = best.min(t.elapsed().as_secs_f64() * 1e9 / iters as f64);
                        }
                        println!(
                            "| {} | {name} | {} | {best:.0} | {:.1} |",
                            p.name(),
                            text.len(),
                            best / text.len() as f64
                        );
                    }
                }
            }

            // The depth limit on 100,000 levels of parentheses (ours only).
            let roomy = ParserOptions {
                max_input_len: 1 << 20,
                ..ParserOptions::default()
            };
            let deep = deep_parens(100_000);
            let mut best = f64::MAX;
            for _ in 0..50 {
                let t = Clock::now();
                let e =
                    odata_parser::parse_filter(std::hint::black_box(&deep), &roomy).unwrap_err();
                best = best.min(t.elapsed().as_secs_f64() * 1e6);
                assert_eq!(
                    e.kind,
                    odata_parser::ErrorKind::LimitExceeded(odata_parser::Limit::Depth)
                );
            }
            println!(
                "\nours, 100,000 nested parentheses (200 KB): depth-limit error in {best:.1} µs (best of 50)"
            );
        }
        "loop-common" => {
            // For profilers: the common set, many times, one parser (arg 2: 0..3).
            let o = ParserOptions::default();
            let common = common(&filters);
            let which: usize = std::env::args()
                .nth(2)
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            let p = Peer::ALL[which];
            let mut buf = String::new();
            let iters: usize = std::env::var("ITERS")
                .ok()
                .and_then(|s| s.parse().ok())
                .unwrap_or(20_000);
            for _ in 0..iters {
                for f in &common {
                    std::hint::black_box(p.parse_filter(std::hint::black_box(f), &o, &mut buf));
                }
            }
        }
        "loop" => {
            // For profilers: parse one long or-chain many times.
            let o = ParserOptions::default();
            let text = or_chain(4000);
            for _ in 0..3000 {
                std::hint::black_box(
                    odata_parser::parse_filter(std::hint::black_box(&text), &o).is_ok(),
                );
            }
        }
        "dump" => {
            let common = common(&filters);
            for f in &filters {
                println!(
                    "{{\"set\":\"filter\",\"common\":{},\"text\":{}}}",
                    common.contains(f),
                    json_str(f)
                );
            }
            for (name, bytes) in [
                ("or_chain_100", 100),
                ("or_chain_1k", 1000),
                ("or_chain_4k", 4000),
            ] {
                println!(
                    "{{\"set\":{},\"common\":false,\"text\":{}}}",
                    json_str(name),
                    json_str(&or_chain(bytes))
                );
            }
            for (name, bytes) in [("in_list_1k", 1000), ("in_list_4k", 4000)] {
                println!(
                    "{{\"set\":{},\"common\":false,\"text\":{}}}",
                    json_str(name),
                    json_str(&in_list(bytes))
                );
            }
        }
        _ => {
            let o = ParserOptions::default();
            let mut buf = String::new();
            println!(
                "| peer | `$filter` corpus accepted (of {}) |",
                filters.len()
            );
            println!("| --- | ---: |");
            for p in Peer::ALL {
                let n = filters
                    .iter()
                    .filter(|f| p.parse_filter(f, &o, &mut buf))
                    .count();
                println!("| {} | {n} |", p.name());
            }
            println!("\ncommon to all: {}", common(&filters).len());
            for p in Peer::ALL {
                let rejected: Vec<&String> = filters
                    .iter()
                    .filter(|f| !p.parse_filter(f, &o, &mut buf))
                    .collect();
                println!("\n{} rejects: {rejected:?}", p.name());
            }
            for (name, text) in [
                ("or_chain_100", or_chain(100)),
                ("or_chain_1k", or_chain(1000)),
                ("or_chain_4k", or_chain(4000)),
                ("in_list_1k", in_list(1000)),
                ("in_list_4k", in_list(4000)),
            ] {
                let acc: Vec<&str> = Peer::ALL
                    .iter()
                    .filter(|p| p.parse_filter(&text, &o, &mut buf))
                    .map(|p| p.name())
                    .collect();
                println!("{name} ({} bytes) accepted by {acc:?}", text.len());
            }
            let opts = options();
            let n = opts
                .iter()
                .filter(|(k, v)| match *k {
                    "orderby" => odata_parser::parse_orderby(v, &o).is_ok(),
                    "select" => odata_parser::parse_select(v, &o).is_ok(),
                    "expand" => odata_parser::parse_expand(v, &o).is_ok(),
                    _ => odata_parser::parse_apply(v, &o).is_ok(),
                })
                .count();
            println!(
                "\nours accepts {n} of {} $orderby/$select/$expand/$apply values",
                opts.len()
            );
            let n = opts
                .iter()
                .filter(|(k, v)| odatav4_parser::parse(&format!("${k}={v}")).is_ok())
                .count();
            println!("odatav4-parser accepts {n} of them");
        }
    }
}
