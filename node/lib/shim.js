'use strict';
// The fault shim: message faults inside the user's own processes. It
// wraps the paths a cluster library's messages take, decides each
// message with decide.js (the same decisions Go's faultinject.Decider
// makes for the same seed, link and message number), carries the
// decision out (drop, delay, duplicate, reorder, corrupt), and writes
// each decision that changed something to the journal with its ground
// truth, as a faultinject.Record.
//
// wrapPrimary: in the cluster primary, a worker's requests are decided
// as the primary receives them (worker.process's 'message' events, which
// worker 'message' and cluster 'message' listeners hear) and its replies
// as the primary sends them (worker.send), as Go's faultinject.Messages
// does on the master's side of a connection; a request held (delayed,
// reordered) when its worker dies still reaches the primary's listeners,
// as one already in the primary's pipe would, while a reply held then is
// thrown away (logged as discarded). wrapWorker: in a worker
// whose master is not ours (shmlab's Go master), requests are decided at
// process.send and replies at process's 'message' events.

const { Decider, none } = require('./decide');
const { corrupt, corruptible } = require('./corrupt');
const { now } = require('./journal');

const REORDER_WAIT_MS = 50; // a held message goes after this even alone

// info is what a decision may look at of a message: the request's
// method, key and id (for a reply, those of the request it answers).
function requestInfo(msg) {
  if (msg === null || typeof msg !== 'object') return { method: '', key: '', seq: 0 };
  const id = idOf(msg);
  return {
    method: typeof msg.method === 'string' ? msg.method : '',
    key: typeof msg.key === 'string' ? msg.key : '',
    seq: typeof id === 'number' && Number.isSafeInteger(id) && id >= 0 ? id : 0,
  };
}

function idOf(msg) {
  if (msg === null || typeof msg !== 'object') return undefined;
  return msg.uuid !== undefined ? msg.uuid : msg.id;
}

// truth is what decision d did to the request it concerns: Go's truth.
function truth(dir, d) {
  if (dir === 'requests') {
    if (d.drop || d.discarded || d.corruption === 'frame') return 'not_applied';
    if (d.copies > 0) return 'duplicated';
    if (d.corruption) return 'applied';
    return 'delayed';
  }
  if (d.drop || d.discarded || d.corruption) return 'applied';
  if (d.copies > 0) return '';
  return 'delayed';
}

// recordJSON is a faultinject.Record as Go marshals it.
function recordJSON(link, info, dec, t) {
  const d = {};
  for (const k of ['drop', 'delay', 'copies', 'reorder', 'corruption', 'discarded', 'fired']) {
    if (dec[k]) d[k] = dec[k];
  }
  const tr = truth(link.dir, dec);
  return `{"time":${t},"link":${JSON.stringify(link)},"n":${dec.n},"msg":${JSON.stringify(info)},` +
    `"decision":${JSON.stringify(d)}${tr ? `,"truth":"${tr}"` : ''}}`;
}

// Link carries one direction of one worker's messages under a plan.
class Link {
  // late: deliver what is held (delayed, reordered) after the link
  // closed, instead of throwing it away: a request the primary has
  // received already still reaches its listeners after its worker died.
  constructor(shim, worker, dir, deliver, late = false) {
    this.late = late;
    this.shim = shim;
    this.link = { worker, dir };
    this.ld = shim.decider.on(this.link);
    this.deliver = deliver;
    this.held = []; // messages held for a reorder: {go, timer, info, dec}
    this.closed = false;
  }

  // pass decides msg (with info) and carries the decision out.
  pass(msg, info, ...rest) {
    const dec = this.ld.decide(info, this.shim.elapsed());
    if (dec.corruption && !corruptible(msg, this.link.dir, dec.corruption)) delete dec.corruption;
    if (none(dec)) {
      this.send(msg, rest);
      return;
    }
    this.shim.log(this.link, info, dec);
    if (dec.drop) return;
    if (dec.corruption) msg = corrupt(msg, this.link.dir, dec.corruption);
    const go = () => {
      this.send(msg, rest);
      for (let i = 0; i < (dec.copies || 0); i++) this.send(msg, rest);
    };
    if (dec.delay) {
      const h = { info, dec, go: null };
      h.go = go;
      setTimeout(() => { if (!this.closed || this.late) go(); else this.discard(h); }, Number(dec.delay) / 1e6);
      return;
    }
    if (dec.reorder) {
      const h = { info, dec, go };
      h.timer = setTimeout(() => this.release(h), REORDER_WAIT_MS);
      this.held.push(h);
      return;
    }
    go();
  }

  // send delivers msg, then any messages held for a reorder.
  send(msg, rest) {
    if (this.closed && !this.late) return;
    this.deliver(msg, ...rest);
    const held = this.held;
    this.held = [];
    for (const h of held) {
      clearTimeout(h.timer);
      h.go();
    }
  }

  release(h) {
    const i = this.held.indexOf(h);
    if (i < 0) return;
    this.held.splice(i, 1);
    if (!this.closed || this.late) h.go();
  }

  // close throws away what is held, logged as discarded.
  close() {
    this.closed = true;
    const held = this.held;
    this.held = [];
    for (const h of held) {
      clearTimeout(h.timer);
      if (this.late) h.go();
      else this.discard(h);
    }
  }

  discard(h) {
    this.shim.log(this.link, h.info, { discarded: true, n: h.dec.n });
  }
}

class Shim {
  constructor(plan, journal) {
    this.decider = new Decider(plan);
    this.journal = journal;
    this.start = 0n;
    this.pending = new Map(); // worker -> (request id -> info), for replies
  }

  setStart(at) { this.start = at; }

  elapsed() { return this.start === 0n ? 0 : Number(now() - this.start); }

  log(link, info, dec) { this.journal.fault(recordJSON(link, info, dec, now())); }

  // remember keeps a request's info for its reply.
  remember(worker, info, msg) {
    const id = idOf(msg);
    if (id === undefined) return;
    let m = this.pending.get(worker);
    if (!m) this.pending.set(worker, (m = new Map()));
    m.set(id, info);
    if (m.size > 100000) m.delete(m.keys().next().value);
  }

  // replyInfo is the info of the request a reply answers (remember keeps
  // the last 100,000 requests' of each worker).
  replyInfo(worker, msg) {
    const id = idOf(msg);
    const m = this.pending.get(worker);
    const info = m && id !== undefined ? m.get(id) : undefined;
    // Kept after its reply: a duplicated request is answered twice.
    return info || requestInfo(msg);
  }
}

// wrapPrimary installs the shim in the cluster primary; onFork(worker,
// name) wraps each worker forked.
function wrapPrimary(plan, journal) {
  const shim = new Shim(plan, journal);
  return {
    setStart: (at) => shim.setStart(at),
    onFork(worker, name) {
      const proc = worker.process;
      const emit = proc.emit;
      const reqs = new Link(shim, name, 'requests', (msg, ...rest) => emit.call(proc, 'message', msg, ...rest), true);
      proc.emit = function (event, msg, ...rest) {
        if (event !== 'message') return emit.call(this, event, msg, ...rest);
        const info = requestInfo(msg);
        shim.remember(name, info, msg);
        reqs.pass(msg, info, ...rest);
        return true;
      };
      const send = worker.send;
      const reps = new Link(shim, name, 'replies', (msg, ...rest) => send.call(worker, msg, ...rest));
      worker.send = function (msg, ...rest) {
        reps.pass(msg, shim.replyInfo(name, msg), ...rest);
        return true;
      };
      worker.on('exit', () => { reqs.close(); reps.close(); });
    },
  };
}

// wrapWorker installs the shim in a worker, for a master that is not
// ours; it returns the process's own send, for messages that must not
// be decided (poison).
function wrapWorker(plan, name, journal) {
  const shim = new Shim(plan, journal);
  const send = process.send;
  const reqs = new Link(shim, name, 'requests', (msg, ...rest) => send.call(process, msg, ...rest));
  process.send = function (msg, ...rest) {
    const info = requestInfo(msg);
    shim.remember(name, info, msg);
    reqs.pass(msg, info, ...rest);
    return true;
  };
  const emit = process.emit;
  const reps = new Link(shim, name, 'replies', (msg, ...rest) => emit.call(process, 'message', msg, ...rest));
  process.emit = function (event, msg, ...rest) {
    if (event !== 'message') return emit.call(this, event, msg, ...rest);
    reps.pass(msg, shim.replyInfo(name, msg), ...rest);
    return true;
  };
  return { setStart: (at) => shim.setStart(at), send };
}

module.exports = { wrapPrimary, wrapWorker, truth, recordJSON, requestInfo };
