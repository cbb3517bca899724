'use strict';
// The worker driver: loaded in each cluster worker (forked by
// primary.js, or spawned by shmlab's Go master with NODE_CHANNEL_FD=3).
// It makes the adapter's client, says hello to shmlab over the control
// socket, and runs exactly the operations shmlab sends it, one at a
// time, each written to the journal before the library is called.

const path = require('path');
const { Journal } = require('./journal');
const { Control, env } = require('./control');
const { invoke, argsOf, outcome } = require('./call');
const { METHODS } = require('./methods');


function config() {
  const id = process.env.SHMLAB_WORKER_ID;
  return {
    control: env('SHMLAB_NODE_CONTROL'),
    adapter: env('SHMLAB_NODE_ADAPTER'),
    dir: env('SHMLAB_NODE_DIR'),
    gen: Number(env('SHMLAB_NODE_GEN', '1')),
    name: env('SHMLAB_NODE_WORKER', id ? 'w' + id : undefined),
    inc: Number(env('SHMLAB_NODE_INC', process.env.SHMLAB_INCARNATION)),
    timeoutMs: Number(env('SHMLAB_NODE_TIMEOUT_MS', '200')),
    plan: process.env.SHMLAB_NODE_PLAN || null, // JSON text: its 64-bit seed kept exact
    faults: process.env.SHMLAB_NODE_FAULTS || '',
  };
}

async function main() {
  const cfg = config();
  const journal = new Journal(path.join(cfg.dir, `g${cfg.gen}-i${cfg.inc}-${cfg.name}.njournal`),
    { role: 'worker', worker: cfg.name, gen: cfg.gen, inc: cfg.inc });
  let shim = null;
  const rawSend = process.send; // poison goes around the shim
  if (cfg.faults === 'worker' && cfg.plan) {
    shim = require('./shim').wrapWorker(cfg.plan, cfg.name, journal);
  }
  const shmlab = {
    isPrimary: false, workerName: cfg.name, incarnation: cfg.inc, gen: cfg.gen,
    log: (...a) => process.stderr.write(`shmlab ${cfg.name}: ${a.join(' ')}\n`),
  };
  const adapter = require(cfg.adapter);
  const client = await adapter.worker(shmlab);
  const methods = METHODS.filter((m) => client && typeof client[m] === 'function');
  let busy = false;
  const ctl = new Control(cfg.control, (msg) => {
    switch (msg.t) {
      case 'start':
        if (shim) shim.setStart(BigInt(msg.at));
        break;
      case 'op':
        if (busy) throw new Error('shmlab worker: an operation came before the last one ended');
        busy = true;
        run(msg, (status, out) => {
          busy = false;
          ctl.sendRaw(`{"t":"done","n":${msg.n},"status":"${status}","out":${out}}`);
        });
        break;
      case 'poison': {
        const { now } = require('./journal');
        const t0 = now();
        for (const m of require('./poison').messages()) rawSend.call(process, m);
        // Then the adapter's own, in its library's message format (adapter.poison).
        for (const m of Array.isArray(adapter.poison) ? adapter.poison : []) rawSend.call(process, m);
        ctl.sendRaw(`{"t":"poisoned","at":"${t0}","end":"${now()}"}`);
        break;
      }
      case 'release':
        // shmlab has no more operations for this worker: let go of a lock
        // an increment's read took, whose write will not come.
        if (held !== null) {
          const key = held;
          held = null;
          step('unlock', [key], () => {});
        }
        break;
      case 'end':
        // Listen for the answers to the calls given up on, up to
        // msg.wait ms after each was (as Go's workers do), then go.
        awaitLate(Number(msg.wait) || 0, () => {
          journal.close();
          ctl.end(() => process.exit(0));
        });
        break;
    }
  }, () => {
    // shmlab is gone: nothing more will be asked.
    journal.close();
    process.exit(0);
  });
  ctl.send({ t: 'hello', role: 'worker', worker: cfg.name, gen: cfg.gen, inc: cfg.inc, pid: process.pid, methods, name: adapter.name || '' });

  const gaveUp = new Map(); // call id -> when it timed out (ms), until answered late

  function awaitLate(waitMs, done) {
    const until = Math.max(0, ...[...gaveUp.values()].map((t) => t + waitMs));
    const poll = () => (gaveUp.size === 0 || Date.now() >= until ? done() : setTimeout(poll, 20));
    poll();
  }

  let held = null; // the key whose lock this worker holds, between an increment's halves

  // step calls the client's method m with args, then cb(err, value).
  function step(m, args, cb) {
    invoke(client[m].bind(client), args, cb);
  }

  // run runs operation msg under its call timeout and answers it once:
  // with its outcome, or "unknown" when the timeout comes first. Every
  // library call it makes (a lock left held, the lock, the method, the
  // unlock) is under that timeout, so that a call the library never
  // answers costs this operation an "unknown", never the worker's
  // answer. With msg.notify it says "called" once it has called the
  // library for the operation, before its answer.
  function run(msg, answer) {
    const op = msg.op;
    const id = msg.record === false ? 0 : journal.call(op.method, op.key, JSON.stringify(msg.input || {}));
    let over = false;
    let releasing = null; // the key of a lock left held, while it is let go first
    let calledLib = false;
    const notify = () => {
      if (msg.notify && calledLib) {
        msg.notify = false;
        ctl.sendRaw(`{"t":"called","n":${msg.n}}`);
      }
    };
    const timer = setTimeout(() => {
      if (over) return;
      over = true;
      let message = `no answer within ${cfg.timeoutMs}ms`;
      if (releasing !== null) message += ` (the unlock of ${JSON.stringify(releasing)}, held from an increment's read, did not answer)`;
      const out = JSON.stringify({ error: { code: 'timeout', message } });
      if (id) {
        journal.ret(id, 'unknown', out);
        gaveUp.set(id, Date.now());
      }
      notify();
      answer('unknown', out);
    }, cfg.timeoutMs);
    const finish = (err, value) => {
      if (over) {
        if (id && gaveUp.delete(id)) journal.late(id); // a reply after the worker gave up
        return;
      }
      over = true;
      clearTimeout(timer);
      const [status, out] = outcome(op.method, err, value);
      if (id) journal.ret(id, status, out);
      notify();
      answer(status, out);
    };
    const main = (cb) => step(op.method, argsOf(op), cb);
    const call = () => {
      calledLib = true;
      if (msg.lock) {
        // The first half of a lock-protected increment: lock, then read.
        step('lock', [op.key], (err) => {
          if (err) return finish(err);
          if (over) { // it came too late: let it go at once
            step('unlock', [op.key], () => {});
            return finish(null);
          }
          main((err2, v) => {
            if (err2) step('unlock', [op.key], () => finish(err2, v));
            else {
              held = op.key;
              finish(null, v);
            }
          });
        });
      } else if (msg.unlock) {
        // The second half: write, then unlock. The write took effect
        // whatever unlock answers, so an unlock error is not definite.
        main((err, v) => {
          held = null;
          if (err) {
            step('unlock', [op.key], () => finish(err, v));
            return;
          }
          step('unlock', [op.key], (err2) => {
            if (!err2) return finish(null, v);
            const e = new Error('unlock: ' + (err2.message || err2));
            e.code = 'unlock';
            finish(e);
          });
        });
      } else {
        main(finish);
      }
      notify();
    };
    if (held !== null && !(msg.unlock && op.key === held)) {
      // The increment's second half will not come (its read failed, or
      // read no integer): let the lock go first; the operation is not
      // made if its timeout came meanwhile.
      releasing = held;
      held = null;
      step('unlock', [releasing], () => {
        releasing = null;
        if (!over) call();
      });
      return;
    }
    call();
  }
}

main().catch((err) => {
  process.stderr.write(`shmlab worker: ${err && err.stack || err}\n`);
  process.exit(70);
});
