//! Deterministic data sets shared by the workloads and systems.

/// A pseudo-random number from `x` (splitmix64): the same in every process.
pub fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The key of entry `id`: big-endian, so that LMDB's and redb's orders agree with ids.
pub fn key(id: u32) -> [u8; 4] {
    id.to_be_bytes()
}

/// A graph-node-like value of `size` bytes (at least 4): neighbour ids (u32, little endian)
/// of other entries of an `n`-entry set, then filler.
pub fn node_value(id: u32, n: u32, size: usize) -> Vec<u8> {
    let mut v = vec![0u8; size.max(4)];
    for (k, chunk) in v.chunks_exact_mut(4).enumerate() {
        let neighbour = (mix(u64::from(id) << 16 | k as u64) % u64::from(n)) as u32;
        chunk.copy_from_slice(&neighbour.to_le_bytes());
    }
    v
}

/// The neighbour number `step` of a node value.
pub fn neighbour(value: &[u8], step: usize) -> u32 {
    let slots = value.len() / 4;
    let at = (step % slots) * 4;
    u32::from_le_bytes(value[at..at + 4].try_into().expect("4 bytes"))
}

/// The ids a run touches: `count` ids of `0..n`, uniformly drawn.
pub fn sample(n: u32, count: usize, seed: u64) -> Vec<u32> {
    (0..count as u64).map(|i| (mix(seed << 40 ^ i) % u64::from(n)) as u32).collect()
}

/// The W1 producer: a deterministic f64 embedding, normalised, written as f32 into `out`
/// (real work per element, so that a copy is not a null test).
pub fn produce(id: u32, out: &mut [f32]) {
    let mut norm = 0.0f64;
    let raw: Vec<f64> = (0..out.len())
        .map(|j| {
            let x = ((f64::from(id) + 1.0) * (j as f64 + 0.5)).sin();
            norm += x * x;
            x
        })
        .collect();
    let scale = 1.0 / norm.sqrt().max(f64::MIN_POSITIVE);
    for (o, x) in out.iter_mut().zip(raw) {
        *o = (x * scale) as f32;
    }
}

/// The f32 elements `produce` writes, as an iterator (for producer-fed reserved writes).
pub fn produced(id: u32, dims: usize) -> impl Iterator<Item = f32> {
    let mut v = vec![0f32; dims];
    produce(id, &mut v);
    v.into_iter()
}

/// A checksum of a value that touches its first and last bytes (so that reads are not
/// optimised away and each value is really fetched).
pub fn touch(value: &[u8]) -> u64 {
    match (value.first(), value.last()) {
        (Some(&a), Some(&b)) => u64::from(a) << 8 | u64::from(b) | (value.len() as u64) << 16,
        _ => 0,
    }
}
