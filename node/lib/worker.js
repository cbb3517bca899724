'use strict';
// The worker driver: loaded in each cluster worker (forked by
// primary.js, or spawned by shmlab's Go master with NODE_CHANNEL_FD=3).
// It makes the adapter's client, says hello to shmlab over the control
// socket, and runs exactly the operations shmlab sends it, one at a
// time, each written to the journal before the library is called.

const path = require('path');
const { Journal } = require('./journal');
const { Control } = require('./control');
const { invoke, argsOf, outcome } = require('./call');
const { METHODS } = require('./methods');

function env(name, fallback) {
  const v = process.env[name];
  if (v === undefined || v === '') {
    if (fallback !== undefined) return fallback;
    throw new Error(`shmlab worker: $${name} is not set`);
  }
  return v;
}

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
      case 'poison':
        for (const m of require('./poison').messages()) rawSend.call(process, m);
        ctl.sendRaw(`{"t":"poisoned","at":"${require('./journal').now()}"}`);
        break;
      case 'end':
        journal.close();
        ctl.end(() => process.exit(0));
        break;
    }
  }, () => {
    // shmlab is gone: nothing more will be asked.
    journal.close();
    process.exit(0);
  });
  ctl.send({ t: 'hello', role: 'worker', worker: cfg.name, gen: cfg.gen, inc: cfg.inc, pid: process.pid, methods, name: adapter.name || '' });

  function run(msg, answer) {
    const op = msg.op;
    const fn = client[op.method];
    const id = msg.record === false ? 0 : journal.call(op.method, op.key, JSON.stringify(msg.input || {}));
    let over = false;
    const timer = setTimeout(() => {
      if (over) return;
      over = true;
      const out = JSON.stringify({ error: { code: 'timeout', message: `no answer within ${cfg.timeoutMs}ms` } });
      if (id) journal.ret(id, 'unknown', out);
      answer('unknown', out);
    }, cfg.timeoutMs);
    invoke(fn.bind(client), argsOf(op), (err, value) => {
      if (over) return;
      over = true;
      clearTimeout(timer);
      const [status, out] = outcome(op.method, err, value);
      if (id) journal.ret(id, status, out);
      answer(status, out);
    });
  }
}

main().catch((err) => {
  process.stderr.write(`shmlab worker: ${err && err.stack || err}\n`);
  process.exit(70);
});
