package sim

import (
	"fmt"
	"strings"
)

// GoString writes c for %#v, as rapid's log of a draw and a struct
// printed with its fields do: as the scenario file that makes the same
// run (MarshalScenario), indented under a first line that names the
// type, so that a script's values read as JSON and its faults as the
// file's words. A config the file cannot hold (one that is not valid)
// is written field by field, as %#v would. Its JSON is unchanged.
func (c Config) GoString() string {
	text, err := MarshalScenario(c)
	if err != nil {
		type fields Config // Config's fields, without this method
		return "sim.Config" + strings.TrimPrefix(fmt.Sprintf("%#v", fields(c)), "sim.fields")
	}
	extra := ""
	if len(c.Replay) > 0 {
		extra = fmt.Sprintf(", and a replay of %d decisions the file does not hold", len(c.Replay))
	}
	body := strings.ReplaceAll(strings.TrimRight(string(text), "\n"), "\n", "\n  ")
	return fmt.Sprintf("sim.Config (a scenario file%s):\n  %s", extra, body)
}
