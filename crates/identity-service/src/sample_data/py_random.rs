//! CPython's `random.Random` (3.11), as far as `gen_users.py` uses it: the
//! Mersenne Twister MT19937 seeded from an integer through `init_by_array`,
//! and the exact algorithms of `random()`, `getrandbits()`, `_randbelow()`,
//! `choice()`, `choices(weights=...)`, `randrange(stop)` and `sample()`, so
//! that the same seed draws the same values as Python does.
//!
//! References: `Modules/_randommodule.c` and `Lib/random.py` of CPython 3.11.

const N: usize = 624;
const M: usize = 397;
const MATRIX_A: u32 = 0x9908_b0df;
const UPPER_MASK: u32 = 0x8000_0000;
const LOWER_MASK: u32 = 0x7fff_ffff;

/// `random.Random(seed)` for a non-negative integer seed.
#[derive(Clone)]
pub struct PyRandom {
    mt: [u32; N],
    index: usize,
}

impl std::fmt::Debug for PyRandom {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PyRandom")
            .field("index", &self.index)
            .finish_non_exhaustive()
    }
}

impl PyRandom {
    /// `random.Random(seed)`: the integer's 32-bit words, least significant
    /// first (one zero word for 0), fed to `init_by_array`.
    pub fn new(seed: u64) -> Self {
        // Truncation intended: the low and the high word of the seed.
        let low = seed as u32;
        let high = (seed >> 32) as u32;
        let key: &[u32] = if high == 0 { &[low] } else { &[low, high] };
        let mut rng = Self {
            mt: [0; N],
            index: N,
        };
        rng.init_by_array(key);
        rng
    }

    fn init_genrand(&mut self, seed: u32) {
        self.mt[0] = seed;
        for i in 1..N {
            let prev = self.mt[i - 1];
            self.mt[i] = 1_812_433_253u32
                .wrapping_mul(prev ^ (prev >> 30))
                .wrapping_add(i as u32);
        }
        self.index = N;
    }

    fn init_by_array(&mut self, key: &[u32]) {
        self.init_genrand(19_650_218);
        let mut i = 1usize;
        let mut j = 0usize;
        for _ in 0..N.max(key.len()) {
            let prev = self.mt[i - 1];
            self.mt[i] = (self.mt[i] ^ (prev ^ (prev >> 30)).wrapping_mul(1_664_525))
                .wrapping_add(key[j])
                .wrapping_add(j as u32);
            i += 1;
            j += 1;
            if i >= N {
                self.mt[0] = self.mt[N - 1];
                i = 1;
            }
            if j >= key.len() {
                j = 0;
            }
        }
        for _ in 0..N - 1 {
            let prev = self.mt[i - 1];
            self.mt[i] = (self.mt[i] ^ (prev ^ (prev >> 30)).wrapping_mul(1_566_083_941))
                .wrapping_sub(i as u32);
            i += 1;
            if i >= N {
                self.mt[0] = self.mt[N - 1];
                i = 1;
            }
        }
        self.mt[0] = 0x8000_0000;
    }

    /// `genrand_uint32`: the next 32 bits of the twister.
    pub fn next_u32(&mut self) -> u32 {
        if self.index >= N {
            for k in 0..N {
                let y = (self.mt[k] & UPPER_MASK) | (self.mt[(k + 1) % N] & LOWER_MASK);
                let mag = if y & 1 == 1 { MATRIX_A } else { 0 };
                self.mt[k] = self.mt[(k + M) % N] ^ (y >> 1) ^ mag;
            }
            self.index = 0;
        }
        let mut y = self.mt[self.index];
        self.index += 1;
        y ^= y >> 11;
        y ^= (y << 7) & 0x9d2c_5680;
        y ^= (y << 15) & 0xefc6_0000;
        y ^ (y >> 18)
    }

    /// `random()`: a float in `[0, 1)` with 53 random bits.
    pub fn random(&mut self) -> f64 {
        let a = f64::from(self.next_u32() >> 5);
        let b = f64::from(self.next_u32() >> 6);
        (a * 67_108_864.0 + b) * (1.0 / 9_007_199_254_740_992.0)
    }

    /// `getrandbits(k)` for `k <= 128`: 32-bit words, least significant
    /// first, the last one shifted down to the bits still wanted.
    pub fn getrandbits(&mut self, k: u32) -> u128 {
        debug_assert!(k <= 128);
        let mut out = 0u128;
        let mut left = k;
        let mut shift = 0;
        while left > 0 {
            let mut word = self.next_u32();
            if left < 32 {
                word >>= 32 - left;
            }
            out |= u128::from(word) << shift;
            shift += 32;
            left = left.saturating_sub(32);
        }
        out
    }

    /// `_randbelow(n)` (`_randbelow_with_getrandbits`): draws
    /// `n.bit_length()` bits until the value is below `n`. `n` must be
    /// positive.
    pub fn randbelow(&mut self, n: u64) -> u64 {
        debug_assert!(n > 0);
        let k = u64::BITS - n.leading_zeros();
        loop {
            // At most 64 bits were drawn, so the value fits.
            let r = self.getrandbits(k) as u64;
            if r < n {
                return r;
            }
        }
    }

    /// `randrange(stop)` for a positive `stop`.
    pub fn randrange(&mut self, stop: u64) -> u64 {
        self.randbelow(stop)
    }

    /// `choice(seq)` for a non-empty slice.
    pub fn choice<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.randbelow(items.len() as u64) as usize]
    }

    /// `choices(range(len(weights)), weights=weights, k=1)[0]`: the
    /// cumulative weights, `random() * total`, and `bisect_right` over all
    /// but the last cumulative weight.
    pub fn weighted_index(&mut self, weights: &[u32]) -> usize {
        let cumulative: Vec<u64> = weights
            .iter()
            .scan(0u64, |sum, &w| {
                *sum += u64::from(w);
                Some(*sum)
            })
            .collect();
        let total = cumulative.last().copied().unwrap_or(0) as f64;
        let x = self.random() * total;
        let hi = cumulative.len().saturating_sub(1);
        // bisect_right(cum_weights, x, 0, hi): the first index whose
        // cumulative weight is above x (weights are far below 2^53, so the
        // comparison in f64 is exact, as Python's int/float comparison is).
        cumulative[..hi].partition_point(|&c| c as f64 <= x)
    }

    /// `sample(range(n), k)`: `k` distinct indexes below `n`, by CPython's
    /// two algorithms (a shrinking pool when `n` is small compared to `k`,
    /// else rejection against the set of indexes already taken).
    pub fn sample(&mut self, n: usize, k: usize) -> Vec<usize> {
        assert!(k <= n, "sample larger than population");
        let mut setsize = 21usize;
        if k > 5 {
            // 4 ** ceil(log(k * 3, 4)), computed as Python does (floats).
            let exponent = ((k * 3) as f64).ln() / 4f64.ln();
            setsize += 4usize.pow(exponent.ceil() as u32);
        }
        let mut result = Vec::with_capacity(k);
        if n <= setsize {
            let mut pool: Vec<usize> = (0..n).collect();
            for i in 0..k {
                let j = self.randbelow((n - i) as u64) as usize;
                result.push(pool[j]);
                pool[j] = pool[n - i - 1];
            }
        } else {
            let mut selected = std::collections::HashSet::with_capacity(k);
            for _ in 0..k {
                let mut j = self.randbelow(n as u64) as usize;
                while !selected.insert(j) {
                    j = self.randbelow(n as u64) as usize;
                }
                result.push(j);
            }
        }
        result
    }

    /// `uuid.UUID(int=getrandbits(128), version=4)`.
    pub fn uuid4(&mut self) -> uuid::Uuid {
        let mut v = self.getrandbits(128);
        v &= !(0xc000u128 << 48);
        v |= 0x8000u128 << 48;
        v &= !(0xf000u128 << 64);
        v |= 4u128 << 76;
        uuid::Uuid::from_u128(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Reference values printed by CPython 3.11:
    //   r = random.Random(42); [r.random() for _ in range(3)]
    //   random.Random(42).getrandbits(32), random.Random(2**40 + 5).getrandbits(64),
    //   random.Random(0).getrandbits(32)
    //   r = random.Random(7); [r.randrange(10**6) for _ in range(3)]
    //   random.Random(1).sample(range(50), 3), random.Random(1).sample(range(10), 7)
    //   r = random.Random(3); [r.choices(range(4), weights=[1, 0, 5, 2])[0] for _ in range(8)]
    const REF_BITS32: u128 = 2_746_317_213;
    const REF_BITS64: u128 = 9_535_518_150_286_577_956;
    const REF_RANGE: [u64; 3] = [339_563, 993_908, 158_176];
    const REF_SAMPLE_SET: [usize; 3] = [8, 36, 48];
    const REF_SAMPLE_POOL: [usize; 7] = [2, 1, 4, 0, 3, 5, 7];
    const REF_CHOICES: [usize; 8] = [2, 2, 2, 2, 2, 0, 0, 3];
    const REF_SEED0_BITS32: u128 = 3_626_764_237;

    #[test]
    fn matches_cpython() {
        let mut r = PyRandom::new(42);
        assert_eq!(r.random(), 0.639_426_798_457_883_8);
        assert_eq!(r.random(), 0.025_010_755_222_666_936);
        assert_eq!(r.random(), 0.275_029_318_369_119_26);
        assert_eq!(PyRandom::new(42).getrandbits(32), REF_BITS32);
        assert_eq!(PyRandom::new((1 << 40) + 5).getrandbits(64), REF_BITS64);
        assert_eq!(PyRandom::new(0).getrandbits(32), REF_SEED0_BITS32);
        let mut r = PyRandom::new(7);
        let drawn: Vec<u64> = (0..3).map(|_| r.randrange(1_000_000)).collect();
        assert_eq!(drawn, REF_RANGE);
        assert_eq!(PyRandom::new(1).sample(50, 3), REF_SAMPLE_SET);
        assert_eq!(PyRandom::new(1).sample(10, 7), REF_SAMPLE_POOL);
        let mut r = PyRandom::new(3);
        let picked: Vec<usize> = (0..8).map(|_| r.weighted_index(&[1, 0, 5, 2])).collect();
        assert_eq!(picked, REF_CHOICES);
        assert_eq!(
            PyRandom::new(42).uuid4().to_string(),
            "bdd640fb-0667-4ad1-9c80-317fa3b1799d"
        );
    }
}
