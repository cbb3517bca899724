'use strict';
// shmlab's Node.js package. shmlab (the Go binary) carries these files
// and runs them: lib/primary.js in the cluster primary, lib/worker.js in
// each worker. See README.md for the adapter contract.

const path = require('path');

module.exports = {
  primary: path.join(__dirname, 'lib', 'primary.js'),
  worker: path.join(__dirname, 'lib', 'worker.js'),
  template: path.join(__dirname, 'template', 'adapter.js'),
  Journal: require('./lib/journal').Journal,
  METHODS: require('./lib/methods').METHODS,
};
