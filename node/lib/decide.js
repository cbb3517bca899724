'use strict';
// The message-fault decisions of a shmlab fault plan: a port of Go's
// faultinject.Decider (faultinject/decide.go and plan.go) that makes, for
// the same plan, seed, link and messages, the same decisions bit for bit.
// Shared test vectors (node/testdata/decisions.json), made and checked by
// Go and checked here, hold the two together.
//
//   const { Decider } = require('./decide');
//   const d = new Decider(planJSONText);           // or the parsed object
//   const link = d.on({ worker: 'w1', dir: 'requests' });
//   const dec = link.decide({ method: 'get', key: 'k1', seq: 7 }, elapsedNs);
//   // dec: { drop, delay, copies, reorder, corruption, fired, n }, members
//   // left out when zero, as Go's JSON writes a Decision (n is always there)
//   settle(dec, message, 'requests');  // false: nothing to do, nothing to log
//
// A decision's corruption is applied with corrupt.js (corrupt(message,
// dir, dec.corruption)); poison.js lists the poison fault's messages.

const { PCG, hash64 } = require('./pcg');
const gomath = require('./gomath');
const { corruptible } = require('./corrupt');

const CAP = 2 ** 62; // the largest gap Go's aim.gap returns

// parsePlan returns the plan of text or object p, its seed a BigInt. A
// plan's seed is an unsigned 64-bit number, which JSON.parse would round
// past 2^53, so from JSON text the seed is read from the text itself.
function parsePlan(p) {
  if (typeof p === 'string') {
    const plan = JSON.parse(p);
    const seed = topLevelNumber(p, 'seed');
    plan.seed = seed === undefined ? 0n : BigInt(seed);
    return plan;
  }
  const plan = { ...p };
  plan.seed = plan.seed === undefined ? 0n : BigInt(plan.seed);
  if (typeof p.seed === 'number' && !Number.isSafeInteger(p.seed)) {
    throw new RangeError(`plan seed ${p.seed} is not exact: pass the plan's JSON text, or the seed as a string or BigInt`);
  }
  return plan;
}

// topLevelNumber returns the text of member name's number in the JSON
// object text, a valid JSON text (JSON.parse has read it), or undefined.
function topLevelNumber(text, name) {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      const start = i;
      for (i++; text[i] !== '"'; i++) if (text[i] === '\\') i++;
      if (depth !== 1) continue;
      let j = i + 1;
      while (/\s/.test(text[j])) j++;
      if (text[j] !== ':' || JSON.parse(text.slice(start, i + 1)) !== name) continue;
      const m = /^\s*(-?[0-9.eE+-]+)/.exec(text.slice(j + 1));
      return m ? m[1] : undefined;
    }
    if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
  }
  return undefined;
}

// seedOf returns the two halves of the PCG seed of fault i on link l
// under plan seed s: Go's faultinject.Seed.
function seedOf(s, l, i) {
  return [BigInt.asUintN(64, BigInt(s)), hash64(`${l.worker}\x00${l.dir}\x00${i}`)];
}

// ns returns a duration of the plan (a number of nanoseconds) as a number.
function ns(d) { return d === undefined ? 0 : Number(d); }

// Aim is a fault's aim at one link: Go's aim.
class Aim {
  constructor(f, l, i, seed) {
    const t = f.target || {};
    const p = f.p || 0;
    const dir = f.dir || '';
    if ((dir !== '' && dir !== 'both' && dir !== l.dir) || (t.worker && t.worker !== l.worker)) {
      this.never = true;
      return;
    }
    this.message = !!(t.method || t.key || t.nth || t.from || t.until);
    this.always = p === 1 || (p === 0 && !!t.nth);
    this.never = p === 0 && !t.nth;
    this.logq = gomath.log1p(-p);
    this.rng = new PCG(...seedOf(seed, l, i));
    this.matched = 0;
    this.next = 1 + this.gap();
  }

  // gap draws how many matched messages the fault lets by before it hits
  // one: geometric, from log(1-p).
  gap() {
    if (this.always) return 0;
    const u = (Number(this.rng.uint64() >> 11n) + 0.5) / 2 ** 53;
    const g = Math.floor(gomath.log(u) / this.logq);
    return g >= CAP ? CAP : g;
  }
}

// low32 is a uniform draw in [0, 1) from the low 32 bits of u.
function low32(u) { return Number(u & 0xffffffffn) / 2 ** 32; }

// matches reports whether fault f's target takes message m, the nth on
// its link, at elapsed nanoseconds.
function matches(f, m, n, elapsed) {
  const t = f.target || {};
  if (t.method && t.method !== m.method) return false;
  if (t.key && t.key !== m.key) return false;
  if (t.nth && t.nth !== n) return false;
  return !(elapsed < ns(t.from) || (ns(t.until) !== 0 && elapsed >= ns(t.until)));
}

// draw maps a uniform u in [0, 1) to a delay of distribution d, in
// nanoseconds, converting as Go's time.Duration(float) does (truncating).
function draw(d, u) {
  d = d || {};
  switch (d.kind) {
    case 'uniform':
      return ns(d.min) + Math.trunc(u * (ns(d.max) - ns(d.min)));
    case 'exponential': {
      let v = Math.trunc(-gomath.log(1 - u) * ns(d.mean));
      if (ns(d.cap) > 0 && v > ns(d.cap)) v = ns(d.cap);
      return v;
    }
  }
  return ns(d.min);
}

// apply adds fault f's effect to dec; u is a uniform draw for its
// parameters.
function apply(f, dec, u) {
  switch (f.kind) {
    case 'drop': dec.drop = true; break;
    case 'delay': dec.delay = (dec.delay || 0) + draw(f.delay, u); break;
    case 'duplicate': dec.copies = (dec.copies || 0) + Math.max(f.copies || 0, 1); break;
    case 'reorder': dec.reorder = true; break;
    case 'corrupt': dec.corruption = f.corruption || 'frame'; break;
  }
}

// LinkDecider decides the messages of one link, in order: Go's
// LinkDecider.
class LinkDecider {
  constructor(plan, link) {
    this.plan = plan;
    this.link = { worker: String(link.worker), dir: link.dir };
    this.n = 0;
    const faults = plan.messages || [];
    this.aims = faults.map((f, i) => new Aim(f, this.link, i, plan.seed));
  }

  // decide decides what happens to the link's next message m ({method,
  // key, seq}) at elapsed nanoseconds since the run began.
  decide(m, elapsed) {
    elapsed = Number(elapsed || 0);
    const msg = { method: m.method || '', key: m.key || '' };
    const n = ++this.n;
    const dec = {};
    const faults = this.plan.messages || [];
    for (let i = 0; i < this.aims.length; i++) {
      const a = this.aims[i];
      if (a.never || (a.message && !matches(faults[i], msg, n, elapsed))) continue;
      if (++a.matched < a.next) continue;
      (dec.fired || (dec.fired = [])).push(i);
      apply(faults[i], dec, low32(a.rng.uint64()));
      a.next = a.matched + 1 + a.gap();
    }
    return ordered(dec, n);
  }
}

// ordered returns dec with its members in Go's order, zero ones left out.
function ordered(dec, n) {
  const out = {};
  if (dec.drop) out.drop = true;
  if (dec.delay) out.delay = dec.delay;
  if (dec.copies) out.copies = dec.copies;
  if (dec.reorder) out.reorder = true;
  if (dec.corruption) out.corruption = dec.corruption;
  if (dec.fired) out.fired = dec.fired;
  out.n = n;
  return out;
}

// Decider makes the decisions of a plan (its JSON text as Go's
// json.Marshal writes a faultinject.Plan, or that text parsed), one
// LinkDecider per link.
class Decider {
  constructor(plan) {
    this.plan = parsePlan(plan);
    this.links = new Map();
  }

  // on returns the LinkDecider of link {worker, dir}, dir 'requests'
  // (worker to master) or 'replies'; the same one for the same link.
  on(link) {
    const name = `${link.worker}\x00${link.dir}`;
    let ld = this.links.get(name);
    if (!ld) {
      ld = new LinkDecider(this.plan, link);
      this.links.set(name, ld);
    }
    return ld;
  }

  // decide is on(link).decide(m, elapsed).
  decide(link, m, elapsed) { return this.on(link).decide(m, elapsed); }
}

// none reports whether decision dec changes nothing.
function none(dec) {
  return !dec.drop && !dec.delay && !dec.copies && !dec.reorder && !dec.corruption && !dec.discarded;
}

// settle is Go's settle for message m, travelling in direction dir, under
// decision dec: a corruption that cannot change m is taken out of dec (it
// is no fault, and is not logged); it reports whether dec still changes
// something (and so goes into the fault log, with its ground truth).
function settle(dec, m, dir) {
  if (dec.corruption && !corruptible(m, dir, dec.corruption)) delete dec.corruption;
  return !none(dec);
}

module.exports = { Decider, LinkDecider, none, settle, parsePlan, seedOf, _internal: { low32, draw } };
