// shmlab adapter for cluster-shared-memory@1.1.5 (npm; FinalZJY/cluster-shared-memory).
//
// The library keeps a plain object in the cluster primary (its Manager, started by the
// first require in the primary) and its workers call it over process.send, promise style.
// It has get, set, remove and a lock (getLock resolves a lock id, releaseLock takes it
// back); it has no cas and no add. Its Manager's get serves the final read.
//
// Flaws shmlab finds with it (README.md, "Findings in real libraries"): falsy values
// (0, "", false) stored as absent; `__proto__` reads the object prototype; get-then-set
// increments lose updates; a lock held by a worker that dies is never released; the
// primary dies on a poison message (null, an unknown method).
'use strict';

const LIB = 'cluster-shared-memory';

module.exports = {
  name: LIB,
  master() {
    require(LIB); // in the primary, the first require builds the Manager and listens
  },
  worker() {
    const shm = require(LIB);
    const lockIds = new Map(); // key -> the lock id this worker holds
    return {
      get: (key) => shm.get(key),
      set: (key, value) => shm.set(key, value),
      delete: (key) => shm.remove(key),
      lock: async (key) => {
        lockIds.set(key, await shm.getLock(key));
      },
      unlock: async (key) => {
        const id = lockIds.get(key);
        lockIds.delete(key);
        const answer = await shm.releaseLock(key, id);
        if (answer !== 'OK') throw new Error(`releaseLock(${JSON.stringify(key)}): ${answer}`);
      },
    };
  },
  async finalRead(shmlab, keys) {
    const shm = require(LIB);
    const out = {};
    for (const key of keys) out[key] = await shm.get(key);
    return out;
  },
};
