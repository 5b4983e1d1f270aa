//! Parameters of one child run, passed on its command line.

use crate::data;

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
