'use strict';
// PCG is the generator of Go's math/rand/v2 (rand.PCG): a 128-bit linear
// congruential state with the DXSM output function, in BigInt arithmetic,
// giving the same numbers as Go for the same Seed.

const M64 = (1n << 64n) - 1n;
const M128 = (1n << 128n) - 1n;
const MUL = (2549297995355413924n << 64n) | 4865540595714422341n;
const INC = (6364136223846793005n << 64n) | 1442695040888963407n;
const CHEAP_MUL = 0xda942042e4dd58b5n;

class PCG {
  // constructor seeds the generator as Go's rand.NewPCG(seed1, seed2):
  // both are unsigned 64-bit BigInts.
  constructor(seed1, seed2) {
    this.state = ((BigInt.asUintN(64, seed1) << 64n) | BigInt.asUintN(64, seed2));
  }

  // uint64 returns the next number, a BigInt in [0, 2^64).
  uint64() {
    this.state = (this.state * MUL + INC) & M128;
    let hi = this.state >> 64n;
    const lo = this.state & M64;
    hi ^= hi >> 32n;
    hi = (hi * CHEAP_MUL) & M64;
    hi ^= hi >> 48n;
    hi = (hi * (lo | 1n)) & M64;
    return hi;
  }
}

const FNV_OFFSET = 0xcbf29ce484222325n;
const FNV_PRIME = 0x100000001b3n;

// hash64 is Go's FNV-1a 64 (hash/fnv) of the UTF-8 bytes of name.
function hash64(name) {
  let h = FNV_OFFSET;
  for (const b of Buffer.from(name, 'utf8')) {
    h = ((h ^ BigInt(b)) * FNV_PRIME) & M64;
  }
  return h;
}

module.exports = { PCG, hash64 };
