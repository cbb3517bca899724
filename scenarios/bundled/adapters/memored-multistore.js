// shmlab adapter for memored@1.1.1 (npm; PaquitoSoft/memored) writing through its batch
// API: set(key, value) is multiStore({key: value}, cb), a batch of one entry; reads are
// read(key, cb). (adapters/memored.js is the adapter for its plain API.)
//
// The flaw shmlab finds with it: multiStore calls back when the last of its entries is
// stored, unless that entry is the batch's first, so a batch of one never calls back.
'use strict';

const LIB = 'memored';

module.exports = {
  name: 'memored (multiStore)',
  master() {
    require(LIB); // listens to every worker forked after this
  },
  worker() {
    const memored = require(LIB);
    return {
      get: (key, cb) => memored.read(key, (err, value) => cb(err, value)),
      set: (key, value, cb) => memored.multiStore({ [key]: value }, (err) => cb(err)),
    };
  },
};
