package faultinject

// Corruptible is corruptible, for the shared test vectors.
var Corruptible = corruptible
