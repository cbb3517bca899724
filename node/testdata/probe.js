// probe: a tiny cluster application that runs an adapter outside shmlab, for the adapter
// and fixture tests (node/test/adapters.test.js). Not part of shmlab's package.
//
// Environment: PROBE_ADAPTER, the adapter's absolute path; PROBE_OUT, a folder for the
// results; PROBE_PLAN, JSON {workers: [[step, ...], ...], serial: bool}. A worker runs its
// steps in order and writes its results to PROBE_OUT/w<i>.json after each step (so that a
// worker that dies keeps them); a step is one of
//   {call: [method, ...args], timeout: ms}  -> {ok: true, value} | {ok: false, error} |
//                                              {timeout: true}
//   {send: message}   process.send(message), as a poison message would
//   {die: true}       SIGKILL itself
// The primary starts the adapter's master side, forks the workers (one after the exit of
// the one before with serial), and writes PROBE_OUT/primary.json: each worker's exit and,
// if the adapter has one, its final read of the keys the steps name.
'use strict';

const cluster = require('cluster');
const fs = require('fs');
const path = require('path');

const adapter = require(process.env.PROBE_ADAPTER);
const plan = JSON.parse(process.env.PROBE_PLAN);
const out = process.env.PROBE_OUT;
const write = (name, v) => fs.writeFileSync(path.join(out, name + '.json'), JSON.stringify(v));
const hooks = (name) => ({ workerName: name, incarnation: 1, log: (...a) => console.error(name, ...a) });

// call runs a client method, promise or node-callback style, for at most ms.
function call(fn, args, ms) {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ timeout: true }), ms);
    const done = (r) => (clearTimeout(timer), resolve(r));
    const cb = (err, value) => done(err ? { ok: false, error: String(err) } : { ok: true, value });
    try {
      const r = fn(...args, cb);
      if (r && typeof r.then === 'function') r.then((v) => cb(null, v), (e) => cb(e || new Error('rejected')));
    } catch (e) {
      cb(e);
    }
  });
}

async function runWorker(i) {
  const name = `w${i + 1}`;
  const client = adapter.worker(hooks(name));
  const results = [];
  for (const step of plan.workers[i]) {
    if (step.die) process.kill(process.pid, 'SIGKILL');
    if ('send' in step) process.send(step.send);
    const [method, ...args] = step.call || [];
    if (!step.call) results.push({ sent: true });
    else if (typeof client[method] !== 'function') results.push({ missing: method });
    else results.push(await call(client[method].bind(client), args, step.timeout || 10000));
    write(name, results);
  }
  process.exit(0);
}

async function runPrimary() {
  await adapter.master(hooks('primary'));
  const exits = [];
  const fork = (i) => {
    const w = cluster.fork({ PROBE_WORKER: String(i) });
    w.on('exit', (code, signal) => {
      exits[i] = { code, signal };
      if (plan.serial && i + 1 < plan.workers.length) fork(i + 1);
      else if (exits.filter(Boolean).length === plan.workers.length) finish(exits);
    });
  };
  if (plan.serial) fork(0);
  else plan.workers.forEach((_, i) => fork(i));
}

async function finish(exits) {
  const keys = [...new Set(plan.workers.flat().filter((s) => s.call).map((s) => s.call[1]))];
  const final = adapter.finalRead ? await adapter.finalRead(hooks('primary'), keys) : undefined;
  write('primary', { exits, final });
  process.exit(0);
}

if (cluster.isPrimary) runPrimary();
else runWorker(Number(process.env.PROBE_WORKER));
