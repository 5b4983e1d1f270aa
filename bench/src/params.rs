//! Parameters of one child run, passed on its command line.

use crate::data;
use crate::harness::{measure, Measurement};

/// How a read pass walks the touched entries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pattern {
    /// Independent gets of uniformly drawn ids.
    Uniform,
    /// A dependent walk, HNSW-like: each value names the next id.
    Walk,
}

impl Pattern {
    pub fn parse(s: &str) -> Pattern {
        match s {
            "walk" => Pattern::Walk,
            _ => Pattern::Uniform,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Pattern::Uniform => "uniform",
            Pattern::Walk => "walk",
        }
    }
}

/// W3/W4: `n` entries of `value_size` bytes; `touched` reads in `threads` threads.
#[derive(Clone, Debug)]
pub struct ReadParams {
    pub n: u32,
    pub value_size: usize,
    pub touched: usize,
    pub pattern: Pattern,
    pub threads: usize,
}

impl ReadParams {
    pub fn from_args(args: &[String]) -> ReadParams {
        let num = |i: usize| args[i].parse::<usize>().expect("numeric argument");
        ReadParams {
            n: num(0) as u32,
            value_size: num(1),
            touched: num(2),
            pattern: Pattern::parse(&args[3]),
            threads: num(4),
        }
    }

    pub fn to_args(&self) -> Vec<String> {
        vec![
            self.n.to_string(),
            self.value_size.to_string(),
            self.touched.to_string(),
            self.pattern.name().to_string(),
            self.threads.to_string(),
        ]
    }

    /// LMDB map size with room for the data, a write txn's copies and the free list.
    pub fn map_size(&self) -> usize {
        let per_entry = self.value_size.div_ceil(4096) * 4096 + 64;
        (self.n as usize * per_entry * 3 + (256 << 20)).div_ceil(4096) * 4096
    }

    /// The ids each thread reads: the touched sample split in `threads` parts.
    pub fn shares(&self) -> Vec<Vec<u32>> {
        let ids = data::sample(self.n, self.touched, 7);
        let per = ids.len().div_ceil(self.threads).max(1);
        let mut shares: Vec<Vec<u32>> = ids.chunks(per).map(<[u32]>::to_vec).collect();
        shares.resize(self.threads, Vec::new());
        shares
    }
}

/// One read pass over `ids`: `visit(id, step)` returns the value's checksum and its
/// neighbour number `step` (used by the walk to pick the next id).
pub fn read_pass(ids: &[u32], pattern: Pattern, mut visit: impl FnMut(u32, usize) -> (u64, u32)) -> u64 {
    let mut sum = 0u64;
    match pattern {
        Pattern::Uniform => {
            for (step, &id) in ids.iter().enumerate() {
                sum = sum.wrapping_add(visit(id, step).0);
            }
        }
        Pattern::Walk => {
            let Some(&start) = ids.first() else { return 0 };
            let mut id = start;
            for step in 0..ids.len() {
                let (touch, next) = visit(id, step);
                sum = sum.wrapping_add(touch);
                id = next;
            }
        }
    }
    sum
}

/// W1/W2: vectors of `dims` f32, `count` of them, `per_txn` per write txn (0: one txn).
#[derive(Clone, Debug)]
pub struct WriteParams {
    pub count: u32,
    pub dims: usize,
    pub per_txn: u32,
    pub writemap: bool,
}

impl WriteParams {
    pub fn from_args(args: &[String]) -> WriteParams {
        let num = |i: usize| args[i].parse::<usize>().expect("numeric argument");
        WriteParams {
            count: num(0) as u32,
            dims: num(1),
            per_txn: num(2) as u32,
            writemap: args[3] == "writemap",
        }
    }

    pub fn to_args(&self) -> Vec<String> {
        vec![
            self.count.to_string(),
            self.dims.to_string(),
            self.per_txn.to_string(),
            if self.writemap { "writemap" } else { "default" }.to_string(),
        ]
    }

    pub fn map_size(&self) -> usize {
        let per_entry = (self.dims * 4 + 64).div_ceil(4096) * 4096 + 64;
        (self.count as usize * per_entry * 4 + (256 << 20)).div_ceil(4096) * 4096
    }

    /// Where write txns end: after every `per_txn` values, or once at the end.
    pub fn ends_txn(&self, id: u32) -> bool {
        self.per_txn > 0 && (id + 1).is_multiple_of(self.per_txn) && id + 1 < self.count
    }
}

/// W2: `n` vectors of mixed sizes, then `txns` write txns each overwriting `percent` % of
/// them with a new size.
#[derive(Clone, Debug)]
pub struct ChurnParams {
    pub n: u32,
    pub txns: u32,
    pub percent: u32,
}

impl ChurnParams {
    pub fn from_args(args: &[String]) -> ChurnParams {
        let num = |i: usize| args[i].parse::<u32>().expect("numeric argument");
        ChurnParams { n: num(0), txns: num(1), percent: num(2) }
    }

    pub fn to_args(&self) -> Vec<String> {
        vec![self.n.to_string(), self.txns.to_string(), self.percent.to_string()]
    }

    /// The dims of `id` in round `round` (0 = the initial load): 768, 1536 or 3072.
    pub fn dims(id: u32, round: u32) -> usize {
        [768, 1536, 3072][((id + round) % 3) as usize]
    }

    /// The ids overwritten in round `round` (1-based).
    pub fn round_ids(&self, round: u32) -> Vec<u32> {
        data::sample(self.n, (self.n as usize * self.percent as usize / 100).max(1), 1000 + u64::from(round))
    }

    pub fn map_size(&self) -> usize {
        (self.n as usize * 16384 * 4 + (512 << 20)).div_ceil(4096) * 4096
    }
}

/// W6, churn at scale: `n` vectors of 1-, 2- and 4-page sizes (768/1536/3072 dims with 4 KiB
/// pages), then `txns` write txns each replacing `percent` % of them (distinct random keys)
/// with a vector of another size, while a read txn opened before every `hold_every`-th txn
/// stays open for `hold_for` txns (pages freed meanwhile pile up, then become reusable).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScaleParams {
    pub n: u32,
    pub txns: u32,
    pub percent: u32,
    pub hold_every: u32,
    pub hold_for: u32,
}

impl ScaleParams {
    /// The three vector sizes, by size class.
    pub const DIMS: [usize; 3] = [768, 1536, 3072];
    /// Vectors per txn of the (unmeasured) initial load.
    pub const LOAD_BATCH: u32 = 10_000;

    pub fn from_args(args: &[String]) -> ScaleParams {
        let num = |i: usize| args[i].parse::<u32>().expect("numeric argument");
        ScaleParams { n: num(0), txns: num(1), percent: num(2), hold_every: num(3), hold_for: num(4) }
    }

    pub fn to_args(&self) -> Vec<String> {
        [self.n, self.txns, self.percent, self.hold_every, self.hold_for].iter().map(u32::to_string).collect()
    }

    /// Vectors replaced per txn.
    pub fn per_txn(&self) -> usize {
        (self.n as usize * self.percent as usize / 100).max(1)
    }

    /// Whether the held read txn is begun right before txn `t` (0-based).
    pub fn reader_opens_before(&self, t: u32) -> bool {
        t.is_multiple_of(self.hold_every)
    }

    /// Whether the held read txn is ended right before txn `t` (0-based).
    pub fn reader_closes_before(&self, t: u32) -> bool {
        t % self.hold_every == self.hold_for
    }

    pub fn map_size(&self) -> usize {
        // About 7× the data (9.5 KB a vector on average) and 1 GiB: the pages a held reader
        // pins and the free list fit many times over; an LMDB map is sparse, room costs nothing.
        (self.n as usize * 16384 * 4 + (1 << 30)).div_ceil(4096) * 4096
    }

    /// Runs W6 on one system: the load (not measured), then the churn, measured, with the
    /// per-txn times as `txn_ms`. `write(entries)` is one write txn that stores each
    /// `(key, value)` and commits; `begin_reader()` begins the read txn held across txns
    /// (dropping it ends it). Keys and sizes are the same for every system.
    pub fn run<R>(
        &self,
        mut write: impl FnMut(&[(u32, &[u8])]),
        mut begin_reader: impl FnMut() -> R,
    ) -> Measurement {
        // One precomputed vector per size: producing values is W1's subject, not W6's.
        let vectors: Vec<Vec<u8>> = (0..)
            .zip(Self::DIMS)
            .map(|(seed, dims)| {
                bytemuck::cast_slice(&data::produced(seed, dims).collect::<Vec<f32>>()).to_vec()
            })
            .collect();
        let entries = |writes: Vec<(u32, u8)>| -> Vec<(u32, &[u8])> {
            writes.into_iter().map(|(id, c)| (id, vectors[c as usize].as_slice())).collect()
        };
        let mut schedule = ScaleSchedule::new(self);
        for batch in schedule.load() {
            write(&entries(batch));
        }
        let txns: Vec<Vec<(u32, &[u8])>> = (0..self.txns).map(|_| entries(schedule.next_txn())).collect();
        let mut latencies = Vec::with_capacity(txns.len());
        let ((), mut m) = measure(|| {
            let mut reader = None;
            for (t, writes) in (0..).zip(&txns) {
                if self.reader_closes_before(t) {
                    reader = None;
                }
                if self.reader_opens_before(t) {
                    reader = Some(begin_reader());
                }
                let started = std::time::Instant::now();
                write(writes);
                latencies.push(started.elapsed().as_secs_f64() * 1e3);
            }
            drop(reader);
        });
        m.extra.push(("txn_ms".into(), latencies));
        m
    }
}

/// W6's deterministic write sequence: which key gets which size class in which txn.
struct ScaleSchedule {
    n: u32,
    per_txn: usize,
    /// Current size class (index into [`ScaleParams::DIMS`]) of every id.
    class: Vec<u8>,
    txn: u32,
}

impl ScaleSchedule {
    fn new(p: &ScaleParams) -> ScaleSchedule {
        let class = (0..p.n).map(|id| (data::mix(u64::from(id)) % 3) as u8).collect();
        ScaleSchedule { n: p.n, per_txn: p.per_txn(), class, txn: 0 }
    }

    /// The initial load: every id with its first size, in batches of
    /// [`ScaleParams::LOAD_BATCH`].
    fn load(&self) -> Vec<Vec<(u32, u8)>> {
        let all: Vec<(u32, u8)> = (0..self.n).zip(self.class.iter().copied()).collect();
        all.chunks(ScaleParams::LOAD_BATCH as usize).map(<[_]>::to_vec).collect()
    }

    /// The next txn's replacements: distinct random ids, each with a size class other than
    /// its current one.
    fn next_txn(&mut self) -> Vec<(u32, u8)> {
        self.txn += 1;
        let seed = 6000 + u64::from(self.txn);
        let mut taken = std::collections::HashSet::with_capacity(self.per_txn);
        let mut writes = Vec::with_capacity(self.per_txn);
        let mut i = 0u64;
        while writes.len() < self.per_txn {
            let r = data::mix(seed << 40 ^ i);
            i += 1;
            let id = (r % u64::from(self.n)) as u32;
            if taken.insert(id) {
                let class = &mut self.class[id as usize];
                *class = (*class + 1 + (r >> 32 & 1) as u8) % 3;
                writes.push((id, *class));
            }
        }
        writes
    }
}

/// A pool of `threads` workers, built before the measured phase (as an application keeps
/// one), so that thread creation is not measured.
pub fn pool(threads: usize) -> rayon::ThreadPool {
    rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("a rayon pool")
}

/// Runs `f(worker, its ids)` once on every worker of `pool` (one share per worker) and sums
/// the results.
pub fn on_workers(
    pool: &rayon::ThreadPool,
    shares: &[Vec<u32>],
    f: impl Fn(usize, &[u32]) -> u64 + Sync,
) -> u64 {
    assert_eq!(shares.len(), pool.current_num_threads(), "one share per worker");
    pool.broadcast(|ctx| f(ctx.index(), &shares[ctx.index()])).into_iter().fold(0, u64::wrapping_add)
}
