'use strict';
// The shared test vectors (testdata/decisions.json, written by Go's
// TestDecisionVectors from the Go decider): the port must make every
// decision Go makes, and the float functions, the generator, the seeds,
// the corruptions and the poison list it rests on must equal Go's.
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');

const { Decider } = require('../lib/decide');
const { PCG } = require('../lib/pcg');
const gomath = require('../lib/gomath');
const { corrupt } = require('../lib/corrupt');
const poison = require('../lib/poison');
const { seedOf, settle } = require('../lib/decide');

const file = process.env.SHMLAB_DECISIONS || path.join(__dirname, '..', 'testdata', 'decisions.json');
const v = JSON.parse(fs.readFileSync(file, 'utf8'));

const view = new DataView(new ArrayBuffer(8));
function fromBits(hex) { view.setBigUint64(0, BigInt('0x' + hex)); return view.getFloat64(0); }
function toBits(x) { view.setFloat64(0, x); return view.getBigUint64(0).toString(16); }

// sameFloat compares as Go's bits, NaN as any NaN.
function checkFloat(name, fn, pairs) {
  let wrong = 0;
  const first = [];
  for (const [inHex, outHex] of pairs) {
    const got = fn(fromBits(inHex));
    const want = fromBits(outHex);
    if (Number.isNaN(want) ? !Number.isNaN(got) : toBits(got) !== outHex) {
      wrong++;
      if (first.length < 5) first.push(`${name}(0x${inHex}) = 0x${toBits(got)}, want 0x${outHex}`);
    }
  }
  assert.strictEqual(wrong, 0, `${wrong} of ${pairs.length} differ from Go:\n${first.join('\n')}`);
}

test('log is Go math.Log bit for bit', () => checkFloat('log', gomath.log, v.log));
test('log1p is Go math.Log1p bit for bit', () => checkFloat('log1p', gomath.log1p, v.log1p));

test('PCG is Go math/rand/v2 PCG', () => {
  for (const pv of v.pcg) {
    const g = new PCG(BigInt(pv.seed[0]), BigInt(pv.seed[1]));
    assert.deepStrictEqual(pv.out.map(() => g.uint64().toString()), pv.out, `seed ${pv.seed}`);
  }
});

test('seedOf is faultinject.Seed', () => {
  for (const s of v.seeds) {
    assert.deepStrictEqual(seedOf(BigInt(s.seed), s.link, s.i).map(String), s.want, JSON.stringify(s));
  }
});

test('decisions are the Go decider\'s', () => {
  let messages = 0, fired = 0;
  v.cases.forEach((c, ci) => {
    const d = new Decider(c.plan);
    for (const lv of c.links) {
      const ld = d.on(lv.link);
      const want = new Map((lv.decisions || []).map((dec) => [dec.n, dec]));
      let elapsed = 0;
      lv.messages.forEach(([mi, ki, dt], i) => {
        elapsed += dt;
        const got = ld.decide({ method: v.methods[mi], key: v.keys[ki], seq: i + 1 }, elapsed);
        const exp = want.get(i + 1) || { n: i + 1 };
        assert.deepStrictEqual(got, exp, `cases[${ci}] ${JSON.stringify(lv.link)} message ${i + 1} at ${elapsed}ns; plan ${c.plan}`);
        messages++;
        if (got.fired) fired++;
      });
    }
  });
  assert.ok(messages > 10000 && fired > 1000, `only ${messages} messages, ${fired} decisions with a fault`);
});

test('a plan object with a seed past 2^53 is refused unless exact', () => {
  assert.throws(() => new Decider({ seed: 2 ** 60, messages: [] }), /not exact/);
  const text = v.cases.find((c) => JSON.parse(c.plan).seed > Number.MAX_SAFE_INTEGER).plan;
  const big = new Decider(text).plan.seed;
  assert.strictEqual(typeof big, 'bigint');
  assert.strictEqual(new Decider({ ...JSON.parse(text), seed: big.toString() }).plan.seed, big);
});

test('corruptions change messages as Go does', () => {
  v.corrupt.forEach((c, i) => {
    const msg = JSON.parse(c.frame);
    const got = corrupt(msg, c.dir, c.corruption);
    const want = c.want === '' ? msg : JSON.parse(c.want);
    assert.deepStrictEqual(got, want, `corrupt[${i}] ${c.corruption} ${c.dir} ${c.frame}`);
    assert.deepStrictEqual(msg, JSON.parse(c.frame), 'the message given was changed');
    const dec = { corruption: c.corruption, fired: [0], n: 1 };
    assert.strictEqual(settle(dec, msg, c.dir), c.want !== '', `settle, corrupt[${i}]`);
    assert.strictEqual(dec.corruption, c.want === '' ? undefined : c.corruption);
  });
});

test('the poison list is Go\'s', () => {
  assert.deepStrictEqual([...poison.FRAMES], v.poison);
  assert.deepStrictEqual(poison.messages().map((m) => JSON.stringify(m)), v.poison);
});

test('on gives one LinkDecider a link, and links do not share draws', () => {
  const c = v.cases.find((x) => x.links.some((l) => (l.decisions || []).length > 3));
  const d = new Decider(c.plan);
  const l = { worker: 'w1', dir: 'requests' };
  assert.strictEqual(d.on(l), d.on({ ...l }));
  const other = new Decider(c.plan);
  other.decide({ worker: 'w2', dir: 'replies' }, { method: 'get', key: 'a' }, 0); // another link first
  for (let i = 0; i < 200; i++) {
    assert.deepStrictEqual(other.decide(l, { method: 'set', key: 'b' }, i * 1e6), d.on(l).decide({ method: 'set', key: 'b' }, i * 1e6));
  }
});
