// shmlab adapter for memored@1.1.1 (npm; PaquitoSoft/memored).
//
// The library keeps a plain object in the cluster primary (required there before the
// workers fork, it listens to each forked worker) and its workers call it over
// process.send, node-callback style: read(key, cb), store(key, value, cb), remove(key, cb),
// each cb(err, value). It has no cas, add or lock, and no read in the primary (so no final
// read here).
//
// Flaws shmlab finds with it (README.md, "Findings in real libraries"): get-then-set
// increments lose updates; the primary dies reading a key named like an Object.prototype
// member (`__proto__`, `constructor`), and on a request that names a worker pid no worker
// has, or lacks its parameters (the poison below).
'use strict';

const LIB = 'memored';

module.exports = {
  name: LIB,
  master() {
    require(LIB); // listens to every worker forked after this
  },
  // Poison in memored's own format: a read claiming a worker pid that no worker has (the
  // primary answers by that pid), and one without its requestParams.
  poison: [
    { channel: 'memored', type: 'read', id: 'poison-1', workerPid: -1, requestParams: { key: 'k0' } },
    { channel: 'memored', type: 'read', id: 'poison-2', workerPid: -1 },
  ],
  worker() {
    const memored = require(LIB);
    return {
      get: (key, cb) => memored.read(key, (err, value) => cb(err, value)),
      set: (key, value, cb) => memored.store(key, value, (err) => cb(err)),
      delete: (key, cb) => memored.remove(key, (err) => cb(err)),
    };
  },
};
