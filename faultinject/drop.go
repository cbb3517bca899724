package faultinject

// dropped reports whether dec loses its message. A dropped request never
// reaches the master (truth not_applied); a dropped reply never reaches
// the worker, though the master applied the request (truth applied).
// Either way the worker's call ends in an indefinite error (a timeout)
// unless it retries. No copy of a dropped message goes, whatever else
// was decided for it.
func dropped(dec *Decision) bool { return dec.Drop }
