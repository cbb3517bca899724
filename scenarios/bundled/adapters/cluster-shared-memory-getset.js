// shmlab adapter for cluster-shared-memory@1.1.5 used through get and set alone, as its
// README's first example does (adapters/cluster-shared-memory.js adds remove and the lock).
// Without the lock, shmlab's increments are a get, then a set of the value plus one.
'use strict';

module.exports = {
  name: 'cluster-shared-memory (get and set)',
  master() {
    require('cluster-shared-memory'); // the first require in the primary starts its Manager
  },
  worker() {
    const shm = require('cluster-shared-memory');
    return { get: (key) => shm.get(key), set: (key, value) => shm.set(key, value) };
  },
};
