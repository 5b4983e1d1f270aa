//! Instructions per typed `Database::get` with hannoy's codec shapes, hedge against heed
//! 0.23.1, counted by callgrind (deterministic, unlike wall time on the shared machines).
//!
//! hannoy reads each node of its graph with `Database::get` from its own crate: a key codec
//! that allocates an 8-byte key, a value codec that borrows a tagged header and vector from
//! the page. Whether the wrapper's read path inlines into such a caller (and what it costs
//! when it does not) is what this measures; the LMDB work underneath is the same on both.
//!
//! ```sh
//! cargo run --release -p hedge-bench --bin read_path
//! ```
//!
//! It runs itself under `valgrind --tool=callgrind --toggle-collect=*measured_loop*` once per
//! configuration and prints instructions per get, and the wrapper functions that were called
//! out of line inside the loop (a fully inlined read path lists none but LMDB's).

use std::borrow::Cow;
use std::hint::black_box;
use std::process::ExitCode;

use heed::{BoxedError, BytesDecode, BytesEncode};

const ITEMS: u32 = 5_000;
const DIMS: usize = 768;
const OPS: usize = 20_000;

/// hannoy's key: index, node mode, item, layer; encoded into a fresh `Vec` as hannoy does.
struct Key {
    index: u16,
    mode: u8,
    item: u32,
    layer: u8,
}

enum KeyCodec {}

impl<'a> BytesEncode<'a> for KeyCodec {
    type EItem = Key;

    fn bytes_encode(key: &'a Key) -> Result<Cow<'a, [u8]>, BoxedError> {
        let mut out = Vec::with_capacity(8);
        out.extend_from_slice(&key.index.to_be_bytes());
        out.push(key.mode);
        out.extend_from_slice(&key.item.to_be_bytes());
        out.push(key.layer);
        Ok(Cow::Owned(out))
    }
}

/// hannoy's item node: a tag byte, a small header, the vector's bytes (unaligned, borrowed).
struct Item<'a> {
    norm: f32,
    vector: &'a [u8],
}

const ITEM_TAG: u8 = 0;

enum ItemCodec {}

impl<'a> BytesEncode<'a> for ItemCodec {
    type EItem = Item<'a>;

    fn bytes_encode(item: &'a Item<'a>) -> Result<Cow<'a, [u8]>, BoxedError> {
        let mut out = Vec::with_capacity(5 + item.vector.len());
        out.push(ITEM_TAG);
        out.extend_from_slice(&item.norm.to_ne_bytes());
        out.extend_from_slice(item.vector);
        Ok(Cow::Owned(out))
    }
}

impl<'a> BytesDecode<'a> for ItemCodec {
    type DItem = Item<'a>;

    fn bytes_decode(bytes: &'a [u8]) -> Result<Item<'a>, BoxedError> {
        match bytes {
            [ITEM_TAG, rest @ ..] if rest.len() >= 4 => {
                let (header, vector) = rest.split_at(4);
                Ok(Item { norm: f32::from_ne_bytes(header.try_into()?), vector })
            }
            _ => Err("not an item node".into()),
        }
    }
}

#[inline(never)]
fn measured_loop(body: &mut dyn FnMut()) {
    body()
}

/// The item read at step `i`: a fixed pseudo-random walk over the items.
fn item_at(i: usize) -> u32 {
    (i as u64 * 2_654_435_761 % u64::from(ITEMS)) as u32
}

fn key(item: u32) -> Key {
    Key { index: 0, mode: 1, item, layer: 0 }
}

fn vector_bytes(item: u32) -> Vec<u8> {
    (0..DIMS).flat_map(|d| ((item as usize * 31 + d) as f32).to_ne_bytes()).collect()
}

/// hannoy's `item()`: the node of an item, or `None`; an error is the caller's.
macro_rules! read_loop {
    ($db:expr, $txn:expr) => {
        measured_loop(&mut || {
            for i in 0..OPS {
                let item = $db.get($txn, &key(item_at(i))).unwrap();
                black_box(item.map(|it| (it.norm, it.vector.len())));
            }
        })
    };
}

macro_rules! workload {
    ($name:ident, $lib:ident) => {
        mod $name {
            use super::*;
            use ::$lib::{CommitOrAbort, Database, EnvOpenOptions};

            pub fn run(through: &str) {
                let dir = tempfile::tempdir().unwrap();
                // SAFETY: a fresh directory, opened once by this process.
                let env = unsafe { EnvOpenOptions::new().map_size(1 << 30).open(dir.path()) }.unwrap();
                let db: Database<KeyCodec, ItemCodec> = env
                    .create_databases_and_commit(env.write_txn().unwrap(), |o, w| {
                        o.create_database(w, None).map(CommitOrAbort::<_, ()>::Commit)
                    })
                    .unwrap()
                    .unwrap_commit();
                let mut wtxn = env.write_txn().unwrap();
                for item in 0..ITEMS {
                    let vector = vector_bytes(item);
                    db.put(&mut wtxn, &key(item), &Item { norm: 1.0, vector: &vector }).unwrap();
                }
                if through == "write-txn" {
                    read_loop!(db, &wtxn);
                    wtxn.abort();
                } else if through == "nested-txn" {
                    let nested = wtxn.nested_read_txn().unwrap();
                    read_loop!(db, &nested);
                    drop(nested);
                    wtxn.abort();
                } else {
                    wtxn.commit().unwrap();
                    let rtxn = env.read_txn().unwrap();
                    read_loop!(db, &rtxn);
                }
            }
        }
    };
}

workload!(on_hedge, hedge);
workload!(on_heed, heed);

/// Instructions per get and the out-of-line wrapper functions of one configuration.
fn count(lib: &str, txn: &str) -> Result<(f64, Vec<String>), String> {
    let (total, out_file) = hedge_bench::harness::callgrind_measured_loop(&["run", lib, txn])?;
    // Functions with their own cost inside the loop, from callgrind_annotate: the wrapper's
    // (a `hedge::`/`heed::` path) are the ones that did not inline into the caller.
    let outlined = hedge_bench::harness::callgrind_annotate(out_file.path())?
        .lines()
        .filter(|l| l.contains("hedge::") || l.contains("heed::"))
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    Ok((total as f64 / OPS as f64, outlined))
}

fn report() -> Result<(), String> {
    println!(
        "Read path: instructions per typed get, hannoy's codec shapes ({OPS} gets of {ITEMS} items, \
         {DIMS}-dim f32 values; callgrind)\n"
    );
    println!("| read through | hedge | heed 0.23.1 | hedge / heed |");
    println!("|---|---:|---:|---:|");
    let mut outlined = Vec::new();
    for txn in ["read-txn", "write-txn", "nested-txn"] {
        let (h, h_out) = count("hedge", txn)?;
        let (r, r_out) = count("heed", txn)?;
        println!("| {txn} | {h:.0} | {r:.0} | {:.3} |", h / r);
        outlined.push((txn, "hedge", h_out));
        outlined.push((txn, "heed", r_out));
    }
    println!("\nWrapper functions called out of line in the loop (Ir, function):");
    for (txn, lib, functions) in outlined {
        if functions.is_empty() {
            println!("- {lib}, {txn}: none");
        }
        for f in functions {
            println!("- {lib}, {txn}: {f}");
        }
    }
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        [] => report(),
        ["run", lib, txn @ ("read-txn" | "write-txn" | "nested-txn")] => {
            match lib {
                "hedge" => on_hedge::run(txn),
                "heed" => on_heed::run(txn),
                _ => return finish(Err(format!("unknown library {lib}"))),
            }
            Ok(())
        }
        _ => Err("usage: read_path [run <hedge|heed> <read-txn|write-txn|nested-txn>]".into()),
    };
    finish(result)
}

fn finish(result: Result<(), String>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
