'use strict';
// The float functions of Go's math package that a fault decision uses,
// ported so that they give Go's results bit for bit on linux/amd64:
// log is the algorithm of Go's assembly math.Log there (log_amd64.s),
// log1p Go's math.Log1p (log1p.go, with no fused multiply-add, as Go
// compiles it for GOAMD64=v1). Each step is one IEEE 754 double
// operation rounded to nearest, in Go's order, which JavaScript's
// arithmetic repeats exactly; Math.log is not used, since V8's may differ
// from Go's in the last bit.

const buf = new DataView(new ArrayBuffer(8));

// hi32 and lo32 return the high and low 32 bits of x's IEEE 754 encoding.
function hi32(x) { buf.setFloat64(0, x); return buf.getUint32(0); }
function lo32(x) { buf.setFloat64(0, x); return buf.getUint32(4); }

// fromWords returns the double whose encoding is hi:lo.
function fromWords(hi, lo) {
  buf.setUint32(0, hi >>> 0);
  buf.setUint32(4, lo >>> 0);
  return buf.getFloat64(0);
}

const HSqrt2 = 7.07106781186547524401e-01;
const Ln2Hi = 6.93147180369123816490e-01;
const Ln2Lo = 1.90821492927058770002e-10;
const L1 = 6.666666666666735130e-01;
const L2 = 3.999999999940941908e-01;
const L3 = 2.857142874366239149e-01;
const L4 = 2.222219843214978396e-01;
const L5 = 1.818357216161805012e-01;
const L6 = 1.531383769920937332e-01;
const L7 = 1.479819860511658591e-01;

// log is Go's math.Log on amd64: the natural logarithm of x.
function log(x) {
  const hi = hi32(x), lo = lo32(x);
  if ((hi & 0x7fffffff) === 0 && lo === 0) return -Infinity; // ±0
  if (hi & 0x80000000) return NaN; // negative
  if (hi >= 0x7ff00000) return x; // +Inf or NaN
  // f1, k := Frexp(x), from the encoding (as the assembly does, even for
  // a subnormal x)
  let f1 = fromWords((hi & 0x000fffff) | 0x3fe00000, lo);
  let k = ((hi >>> 20) & 0x7ff) - 0x3fe;
  if (!(HSqrt2 < f1)) { // CMPSD predicate "not less than": f1 <= HSqrt2
    k -= 1;
    f1 *= 2;
  }
  const f = f1 - 1;
  const s = f / (2 + f);
  const s2 = s * s;
  const s4 = s2 * s2;
  const t1 = s2 * (((L7 * s4 + L5) * s4 + L3) * s4 + L1);
  const t2 = s4 * ((L6 * s4 + L4) * s4 + L2);
  const R = t1 + t2;
  const hfsq = 0.5 * f * f;
  return k * Ln2Hi - ((hfsq - (s * (hfsq + R) + k * Ln2Lo)) - f);
}

const Sqrt2M1 = 4.142135623730950488017e-01;
const Sqrt2HalfM1 = -2.928932188134524755992e-01;
const Small = 1.0 / (1 << 29);
const Tiny = 1.0 / 2 ** 54;
const Two53 = 2 ** 53;
const Lp1 = L1, Lp2 = L2, Lp3 = L3, Lp4 = L4, Lp5 = L5, Lp6 = L6, Lp7 = L7;

// log1p is Go's math.Log1p: the natural logarithm of 1+x, accurate for x
// near 0.
function log1p(x) {
  if (x < -1 || Number.isNaN(x)) return NaN;
  if (x === -1) return -Infinity;
  if (x === Infinity) return Infinity;
  const absx = Math.abs(x);
  let f = 0;
  let iu = 0; // the 52 fraction bits of u (exact in a double)
  let k = 1;
  if (absx < Sqrt2M1) {
    if (absx < Small) {
      if (absx < Tiny) return x;
      return x - x * x * 0.5;
    }
    if (x > Sqrt2HalfM1) {
      k = 0;
      f = x;
      iu = 1;
    }
  }
  let c = 0;
  if (k !== 0) {
    let u;
    if (absx < Two53) {
      u = 1.0 + x;
      k = (hi32(u) >>> 20) - 1023;
      c = k > 0 ? 1.0 - (u - x) : x - (u - 1.0);
      c /= u;
    } else {
      u = x;
      k = (hi32(u) >>> 20) - 1023;
      c = 0;
    }
    const fhi = hi32(u) & 0x000fffff, flo = lo32(u);
    iu = fhi * 2 ** 32 + flo;
    if (iu < 0x0006a09e667f3bcd) {
      u = fromWords(fhi | 0x3ff00000, flo); // normalize u
    } else {
      k++;
      u = fromWords(fhi | 0x3fe00000, flo); // normalize u/2
      iu = Math.floor((2 ** 52 - iu) / 4);
    }
    f = u - 1.0;
  }
  const hfsq = 0.5 * f * f;
  if (iu === 0) { // |f| < 2**-20
    if (f === 0) {
      if (k === 0) return 0;
      c += k * Ln2Lo;
      return k * Ln2Hi + c;
    }
    const R = hfsq * (1.0 - 0.66666666666666666 * f);
    if (k === 0) return f - R;
    return k * Ln2Hi - ((R - (k * Ln2Lo + c)) - f);
  }
  const s = f / (2.0 + f);
  const z = s * s;
  const R = z * (Lp1 + z * (Lp2 + z * (Lp3 + z * (Lp4 + z * (Lp5 + z * (Lp6 + z * Lp7))))));
  if (k === 0) return f - (hfsq - s * (hfsq + R));
  return k * Ln2Hi - ((hfsq - (s * (hfsq + R) + (k * Ln2Lo + c))) - f);
}

module.exports = { log, log1p };
