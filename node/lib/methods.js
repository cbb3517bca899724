'use strict';
// The methods an adapter's client may have; get and set are required.
const METHODS = ['get', 'set', 'delete', 'cas', 'add', 'lock', 'unlock'];
module.exports = { METHODS };
