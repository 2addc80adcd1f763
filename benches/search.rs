//! Search latency on a generated library, side by side with ripgrep over the same transcripts as
//! files (what a user without roomcast would do), and the same queries on each backend given (a
//! library folder: SQLite; a postgres:// URL: PostgreSQL). Run by benches/search.sh, which builds
//! the libraries first:
//!
//!   cargo bench --bench search -- ROOMS_DIR QUERIES_JSON BINARY LIBRARY [LIBRARY...]
//!
//! Prints a Markdown table per library: per query type, roomcast's in-process latency (p50/p99 over
//! every query five times), the `roomcast search` command's wall time, and, for a library folder,
//! ripgrep's over transcript.txt and transcript.json files. With two libraries or more, then one
//! table of them side by side.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use roomcast::library::{self, Access, SearchQuery};

const ORDER: &[&str] = &["single word", "prefix", "phrase", "boolean", "speaker filter", "very common word"];
const REPEAT: usize = 5;
const RG_QUERIES: usize = 8;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn time_ms(f: impl FnOnce()) -> f64 {
    let t = Instant::now();
    f();
    t.elapsed().as_secs_f64() * 1000.0
}

fn quote(a: &str) -> String {
    format!("'{}'", a.replace('\'', "'\\''"))
}

/// Runs ripgrep over the rooms' `glob` files; a NOT query is a pipe into `rg -v`, as a user would
/// type it.
fn ripgrep(args: &[String], rooms: &Path, glob: &str) -> f64 {
    let (head, tail) = match args.iter().position(|a| a == "|") {
        Some(i) => (&args[..i], &args[i + 1..]),
        None => (args, &[][..]),
    };
    let mut script = format!(
        "rg {} --glob {} {}",
        head.iter().map(|a| quote(a)).collect::<Vec<_>>().join(" "),
        quote(glob),
        quote(&rooms.to_string_lossy())
    );
    if !tail.is_empty() {
        script.push_str(" | ");
        script
            .push_str(&tail.iter().map(|a| if a == "rg" { a.clone() } else { quote(a) }).collect::<Vec<_>>().join(" "));
    }
    time_ms(|| {
        Command::new("sh").arg("-c").arg(&script).stdout(Stdio::null()).stderr(Stdio::null()).status().expect("sh");
    })
}

/// One query type's figures on one library.
struct Row {
    p50: f64,
    p99: f64,
    command_p50: f64,
    hits: f64,
}

/// Runs every query type on the library at `location`, prints its table and returns its rows.
fn run(location: &Path, rooms: &Path, spec: &serde_json::Value, binary: &Path) -> Vec<Row> {
    let postgres = library::postgres::is_connection_string(location);
    let lib = library::open(location, Access::Read).expect("library opens");
    println!("{}:\n", if postgres { "PostgreSQL" } else { "SQLite" });
    if postgres {
        // ripgrep reads the same files whichever catalog indexes them: it is measured once, with
        // the library folder.
        println!("| query type | roomcast p50 | roomcast p99 | `roomcast search` command p50 | hits (avg of 10 max) |");
        println!("|---|---|---|---|---|");
    } else {
        println!(
            "| query type | roomcast p50 | roomcast p99 | `roomcast search` command p50 | ripgrep .txt p50 | ripgrep .json p50 | speed-up vs ripgrep (.txt / .json, p50) | hits (avg of 10 max) |"
        );
        println!("|---|---|---|---|---|---|---|---|");
    }
    let mut rows = Vec::new();
    for kind in ORDER {
        let list = spec["queries"][kind].as_array().expect("queries of each type");
        let mut lat = Vec::new();
        let mut hits = 0usize;
        // One untimed pass: the first touch of each page reads the disk, which is the OS's cache
        // warming, not the query.
        for q in list {
            let _ = lib.search(&query(q));
        }
        for _ in 0..REPEAT {
            for q in list {
                let mut n = 0;
                lat.push(time_ms(|| n = lib.search(&query(q)).expect("query runs").len()));
                hits += n;
            }
        }
        lat.sort_by(f64::total_cmp);
        let mut cli: Vec<f64> = list
            .iter()
            .take(RG_QUERIES)
            .map(|q| {
                let mut c = Command::new(binary);
                c.env("ROOMCAST_LIBRARY", location).args(["--json", "search", "--limit", "10"]);
                if let Some(s) = q["speaker"].as_str() {
                    c.args(["--speaker", s]);
                }
                c.arg(q["query"].as_str().unwrap()).stdout(Stdio::null());
                time_ms(|| assert!(c.status().expect("roomcast runs").success()))
            })
            .collect();
        cli.sort_by(f64::total_cmp);
        let row = Row {
            p50: percentile(&lat, 0.5),
            p99: percentile(&lat, 0.99),
            command_p50: percentile(&cli, 0.5),
            hits: hits as f64 / (REPEAT * list.len()) as f64,
        };
        if postgres {
            println!(
                "| {kind} | {:.2} ms | {:.2} ms | {:.1} ms | {:.1} |",
                row.p50, row.p99, row.command_p50, row.hits
            );
        } else {
            let rg = |glob: &str| {
                let mut t: Vec<f64> = list
                    .iter()
                    .take(RG_QUERIES)
                    .map(|q| {
                        let a: Vec<String> =
                            q["rg"].as_array().unwrap().iter().map(|v| v.as_str().unwrap().to_string()).collect();
                        ripgrep(&a, rooms, glob)
                    })
                    .collect();
                t.sort_by(f64::total_cmp);
                percentile(&t, 0.5)
            };
            let (rg_txt, rg_json) = (rg("transcript.txt"), rg("transcript.json"));
            println!(
                "| {kind} | {:.2} ms | {:.2} ms | {:.1} ms | {:.0} ms | {:.0} ms | {:.0}x / {:.0}x | {:.1} |",
                row.p50,
                row.p99,
                row.command_p50,
                rg_txt,
                rg_json,
                rg_txt / row.p50,
                rg_json / row.p50,
                row.hits
            );
        }
        rows.push(row);
    }
    println!();
    rows
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).filter(|a| a != "--bench").collect();
    let [rooms, queries, binary, libraries @ ..] = &args[..] else {
        eprintln!("usage: cargo bench --bench search -- ROOMS_DIR QUERIES_JSON ROOMCAST_BINARY LIBRARY [LIBRARY...]");
        std::process::exit(2);
    };
    if libraries.is_empty() {
        eprintln!("usage: cargo bench --bench search -- ROOMS_DIR QUERIES_JSON ROOMCAST_BINARY LIBRARY [LIBRARY...]");
        std::process::exit(2);
    }
    let (rooms, binary) = (PathBuf::from(rooms), PathBuf::from(binary));
    let spec: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(queries).expect("queries.json")).expect("queries.json");
    let results: Vec<(&str, Vec<Row>)> = libraries
        .iter()
        .map(|l| {
            let location = PathBuf::from(l);
            let name = if library::postgres::is_connection_string(&location) { "PostgreSQL" } else { "SQLite" };
            (name, run(&location, &rooms, &spec, &binary))
        })
        .collect();
    if results.len() < 2 {
        return;
    }
    // Side by side: each library against the first, and what one process does a second (1000 / p50).
    let (base, base_rows) = &results[0];
    let others = &results[1..];
    let mut head = vec!["query type".to_string()];
    for (name, _) in &results {
        head.push(format!("{name} p50"));
    }
    for (name, _) in others {
        head.push(format!("{name} / {base} p50"));
    }
    for (name, _) in &results {
        head.push(format!("{name} p99"));
    }
    for (name, _) in others {
        head.push(format!("{name} / {base} p99"));
    }
    for (name, _) in &results {
        head.push(format!("{name} searches/s (1000 / p50)"));
    }
    for (name, _) in &results {
        head.push(format!("{name} hits"));
    }
    println!("Side by side:\n");
    println!("| {} |", head.join(" | "));
    println!("|{}", "---|".repeat(head.len()));
    for (i, kind) in ORDER.iter().enumerate() {
        let b = &base_rows[i];
        let mut cells = vec![kind.to_string()];
        cells.extend(results.iter().map(|(_, r)| format!("{:.2} ms", r[i].p50)));
        cells.extend(others.iter().map(|(_, r)| format!("{:.1}x", r[i].p50 / b.p50)));
        cells.extend(results.iter().map(|(_, r)| format!("{:.2} ms", r[i].p99)));
        cells.extend(others.iter().map(|(_, r)| format!("{:.1}x", r[i].p99 / b.p99)));
        cells.extend(results.iter().map(|(_, r)| format!("{:.0}", 1000.0 / r[i].p50)));
        cells.extend(results.iter().map(|(_, r)| format!("{:.1}", r[i].hits)));
        println!("| {} |", cells.join(" | "));
    }
}

fn query(q: &serde_json::Value) -> SearchQuery {
    SearchQuery {
        text: q["query"].as_str().unwrap_or_default().to_string(),
        speaker: q["speaker"].as_str().map(str::to_string),
        limit: 10,
        include_private: true,
        ..Default::default()
    }
}
