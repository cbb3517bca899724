'use strict';
// The primary runner: `node primary.js` with the adapter and the control
// socket in the environment. It starts the library's master side
// (adapter.master), wraps the master's message paths for faults, forks
// the workers with cluster.fork, and reports their pids and exits to
// shmlab. shmlab (Go) applies process faults from outside by those pids.

const cluster = require('cluster');
const path = require('path');
const { Control, env } = require('./control');
const { Journal, now } = require('./journal');

const TAIL = 20; // stderr lines kept per worker for its exit report


async function main() {
  const cfg = {
    control: env('SHMLAB_NODE_CONTROL'),
    adapter: env('SHMLAB_NODE_ADAPTER'),
    dir: env('SHMLAB_NODE_DIR'),
    gen: Number(env('SHMLAB_NODE_GEN', '1')),
    workers: Number(env('SHMLAB_NODE_WORKERS', '1')),
    plan: process.env.SHMLAB_NODE_PLAN || null, // JSON text: its 64-bit seed kept exact
    faults: process.env.SHMLAB_NODE_FAULTS || '',
  };
  const journal = new Journal(path.join(cfg.dir, `g${cfg.gen}-primary.njournal`), { role: 'primary', gen: cfg.gen });
  const adapter = require(cfg.adapter);
  const shmlab = { isPrimary: true, gen: cfg.gen, log: (...a) => process.stderr.write(`shmlab primary: ${a.join(' ')}\n`) };
  const byWorker = new Map(); // cluster worker id -> {name, inc, tail}
  let shim = null;

  const ctl = new Control(cfg.control, (msg) => {
    switch (msg.t) {
      case 'start':
        if (shim) shim.setStart(BigInt(msg.at));
        break;
      case 'fork':
        fork(msg.worker, msg.inc);
        break;
      case 'final':
        finalRead(msg.keys);
        break;
      case 'stop':
        journal.close();
        for (const w of Object.values(cluster.workers)) w.process.kill('SIGKILL');
        ctl.end(() => process.exit(0));
        break;
    }
  }, () => process.exit(0));

  if (typeof adapter.master === 'function') await adapter.master(shmlab);
  if (cfg.faults === 'master' && cfg.plan) shim = require('./shim').wrapPrimary(cfg.plan, journal);
  cluster.setupPrimary({ exec: path.join(__dirname, 'worker.js'), silent: true });
  cluster.on('exit', (w, code, signal) => {
    const info = byWorker.get(w.id);
    if (!info) return;
    ctl.send({ t: 'exit', worker: info.name, inc: info.inc, pid: info.pid, code, signal, stderr: info.tail.slice(-TAIL) });
  });
  ctl.send({ t: 'hello', role: 'primary', gen: cfg.gen, pid: process.pid, name: adapter.name || '', finalRead: typeof adapter.finalRead === 'function' });
  for (let i = 1; i <= cfg.workers; i++) fork('w' + i, i);

  function fork(name, inc) {
    const w = cluster.fork({ SHMLAB_NODE_WORKER: name, SHMLAB_NODE_INC: String(inc) });
    if (shim) shim.onFork(w, name);
    const info = { name, inc, pid: w.process.pid, tail: [] };
    byWorker.set(w.id, info);
    for (const s of [w.process.stdout, w.process.stderr]) {
      let part = '';
      s.setEncoding('utf8');
      s.on('data', (d) => {
        part += d;
        let i;
        while ((i = part.indexOf('\n')) >= 0) {
          const line = part.slice(0, i);
          part = part.slice(i + 1);
          process.stderr.write(`[${name}.${inc}] ${line}\n`);
          info.tail.push(line);
          if (info.tail.length > TAIL) info.tail.shift();
        }
      });
    }
    ctl.send({ t: 'fork', worker: name, inc, pid: w.process.pid });
  }

  function finalRead(keys) {
    if (typeof adapter.finalRead !== 'function') {
      ctl.send({ t: 'final', values: null });
      return;
    }
    Promise.resolve(adapter.finalRead(shmlab, keys)).then((vals) => {
      const out = {};
      for (const k of keys) {
        let v;
        if (vals instanceof Map) v = vals.get(k);
        else if (vals && Object.prototype.hasOwnProperty.call(vals, k)) v = vals[k];
        out[k] = v === undefined || v === null ? null : JSON.stringify(v);
      }
      ctl.send({ t: 'final', values: out, at: String(now()) });
    }, (err) => ctl.send({ t: 'final', error: String(err && err.stack || err) }));
  }
}

main().catch((err) => {
  process.stderr.write(`shmlab primary: ${err && err.stack || err}\n`);
  process.exit(70);
});
