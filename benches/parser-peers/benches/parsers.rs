//! Criterion: our parser against the Rust peers on the same inputs.
//!
//! Run from this directory: `nice cargo bench` (see ../../BENCHMARKS.md).
//! Times are thread CPU time (the machine is shared), see `cputime`.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use odata_parser::ParserOptions;
use parser_peers::*;

type C = Criterion<cputime::CpuTime>;

fn config() -> C {
    Criterion::default()
        .with_measurement(cputime::CpuTime)
        .sample_size(30)
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(3))
        .without_plots()
}

fn filter_sets(c: &mut C) {
    let o = ParserOptions::default();
    let all = filters();
    let common = common(&all);
    let mut g = c.benchmark_group("filter_common");
    g.throughput(Throughput::Elements(common.len() as u64));
    for p in Peer::ALL {
        let mut buf = String::new();
        g.bench_function(BenchmarkId::from_parameter(p.name()), |b| {
            b.iter(|| {
                let mut ok = 0;
                for f in &common {
                    ok += p.parse_filter(black_box(f), &o, &mut buf) as usize;
                }
                assert_eq!(ok, common.len());
            })
        });
    }
    g.finish();

    let mut g = c.benchmark_group("filter_all_ours");
    g.throughput(Throughput::Elements(all.len() as u64));
    g.bench_function("odata-parser (ours)", |b| {
        b.iter(|| {
            for f in &all {
                assert!(odata_parser::parse_filter(black_box(f), &o).is_ok());
            }
        })
    });
    g.finish();

    let opts = options();
    let mut g = c.benchmark_group("options_ours");
    g.throughput(Throughput::Elements(opts.len() as u64));
    g.bench_function("orderby+select+expand+apply", |b| {
        b.iter(|| {
            for (k, v) in &opts {
                let ok = match *k {
                    "orderby" => odata_parser::parse_orderby(black_box(v), &o).is_ok(),
                    "select" => odata_parser::parse_select(black_box(v), &o).is_ok(),
                    "expand" => odata_parser::parse_expand(black_box(v), &o).is_ok(),
                    _ => odata_parser::parse_apply(black_box(v), &o).is_ok(),
                };
                assert!(ok);
            }
        })
    });
    g.finish();
}

fn long_inputs(c: &mut C) {
    let o = ParserOptions::default();
    for (group, inputs) in [
        (
            "or_chain",
            vec![
                (100, or_chain(100)),
                (1000, or_chain(1000)),
                (4000, or_chain(4000)),
            ],
        ),
        (
            "in_list",
            vec![
                (100, in_list(100)),
                (1000, in_list(1000)),
                (4000, in_list(4000)),
            ],
        ),
    ] {
        let mut g = c.benchmark_group(group);
        for (size, text) in &inputs {
            g.throughput(Throughput::Bytes(text.len() as u64));
            for p in Peer::ALL {
                let mut buf = String::new();
                if !p.parse_filter(text, &o, &mut buf) {
                    continue;
                }
                g.bench_with_input(BenchmarkId::new(p.name(), size), text, |b, t| {
                    b.iter(|| p.parse_filter(black_box(t), &o, &mut buf))
                });
            }
        }
        g.finish();
    }
}

fn deep_nesting(c: &mut C) {
    // Ours only: the peers recurse without a limit and overflow the stack.
    let roomy = ParserOptions {
        max_input_len: 1 << 20,
        ..ParserOptions::default()
    };
    let text = deep_parens(100_000);
    let mut g = c.benchmark_group("deep");
    g.bench_function("odata-parser (ours) 100000 levels -> depth error", |b| {
        b.iter(|| {
            let e = odata_parser::parse_filter(black_box(&text), &roomy).unwrap_err();
            assert_eq!(
                e.kind,
                odata_parser::ErrorKind::LimitExceeded(odata_parser::Limit::Depth)
            );
        })
    });
    let text = deep_parens(90);
    g.bench_function("odata-parser (ours) 90 levels ok", |b| {
        b.iter(|| assert!(odata_parser::parse_filter(black_box(&text), &roomy).is_ok()))
    });
    g.finish();
}

criterion_group! { name = benches; config = config(); targets = filter_sets, long_inputs, deep_nesting }
criterion_main!(benches);
