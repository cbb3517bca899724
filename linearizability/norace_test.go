//go:build !race

// The properties here are one goroutine's search, repeated thousands of
// times: the race detector multiplies their time by five to ten and has
// nothing to find in them, and beside a busy machine they alone would
// take make test past its ten minutes. make test runs them in its second
// pass, without the detector (TestNoRace*).

package linearizability

import (
	"slices"
	"testing"
	"time"

	"github.com/anishathalye/porcupine"
	"github.com/shmlab/shmlab/history"
	"github.com/shmlab/shmlab/history/historytest"
	"pgregory.net/rapid"
)

// TestNoRaceReductionsKeepVerdict: each reduction, alone and all together,
// gives every key of a random history full of unknown operations the
// verdict porcupine gives it unreduced, linearizable or not. Both
// verdicts must be common, and the reduction must often do something,
// or the property proves little.
func TestNoRaceReductionsKeepVerdict(t *testing.T) {
	for _, red := range reductions {
		t.Run(red.name, func(t *testing.T) {
			var n tally
			rapid.Check(t, func(t *rapid.T) {
				h := roundTrip(t, drawUnknownHistory(t, red.methods))
				for _, kh := range partition(h, h.Header.Model, &streams{}) {
					want := porcupineKeyVerdict(kh)
					reduced := &keyHistory{key: kh.key, model: kh.model, ops: slices.Clone(kh.ops)}
					did := red.run(reduced)
					got := porcupineKeyVerdict(reduced)
					if want == porcupine.Unknown || got == porcupine.Unknown {
						n.undecided++ // porcupine out of time: a busy machine
						continue
					}
					if got != want {
						t.Fatalf("key %q: reduced by %s (%d operations) it is %v, unreduced %v:\n%s", kh.key, red.name, did, got, want, text(h))
					}
					n.keys++
					if want == porcupine.Ok {
						n.ok++
					} else {
						n.illegal++
					}
					if did > 0 {
						n.fired++
					}
				}
			})
			t.Logf("%d keys: %d linearizable, %d not; reduced %d; %d undecided", n.keys, n.ok, n.illegal, n.fired, n.undecided)
			if n.undecided*10 > n.keys {
				t.Errorf("%d keys undecided in 20s by porcupine, against %d decided: want at most a tenth", n.undecided, n.keys)
			}
			if n.ok*16 < n.keys || n.illegal*16 < n.keys || n.fired*30 < n.keys {
				t.Errorf("of %d keys, %d linearizable, %d not, %d reduced: want each verdict on a sixteenth of them at least (typically 70%% and 15-30%%), and a thirtieth reduced (the bounded reduction fires on about an eighth)", n.keys, n.ok, n.illegal, n.fired)
			}
		})
	}
}

// TestNoRaceTwinsKeepVerdict: the search, which takes identical unknown
// operations in the order of their calls (searcher.twin), gives every
// key of a random history full of unknown adds and appends, unreduced,
// the verdict porcupine gives it. Both verdicts must be common, and
// twins must be on many keys.
func TestNoRaceTwinsKeepVerdict(t *testing.T) {
	adds := []history.Method{history.Get, history.Get, history.Add, history.Add, history.Add, history.Set, history.Delete}
	var n tally
	rapid.Check(t, func(t *rapid.T) {
		h := roundTrip(t, drawUnknownHistory(t, [][]history.Method{adds, historytest.AppendMethods}))
		for _, kh := range partition(h, h.Header.Model, &streams{}) {
			want := porcupineKeyVerdict(kh)
			if want == porcupine.Unknown {
				t.Fatalf("key %q undecided by porcupine:\n%s", kh.key, text(h))
			}
			got := searchKey(kh, time.Now().Add(20*time.Second))
			if got.verdict != porcupineVerdict(want) {
				t.Fatalf("key %q: the search says %v, porcupine %v:\n%s", kh.key, got.verdict, want, text(h))
			}
			n.keys++
			if want == porcupine.Ok {
				n.ok++
			} else {
				n.illegal++
			}
			if kh.ordered() > 0 {
				n.fired++
			}
		}
	})
	t.Logf("%d keys: %d linearizable, %d not; with twins %d", n.keys, n.ok, n.illegal, n.fired)
	if n.ok*16 < n.keys || n.illegal*16 < n.keys || n.fired*4 < n.keys {
		t.Errorf("of %d keys, %d linearizable, %d not, %d with twins: want each verdict on a sixteenth of them at least, and a quarter with twins", n.keys, n.ok, n.illegal, n.fired)
	}
}

// TestNoRaceSearchAgreesWithPorcupine: on small random histories, linearizable
// (simulated) and not (one answer changed), the search gives porcupine's
// verdict on every key, and finds prefixes as long as porcupine's
// longest; a linearization it gives is one: every operation once, in an
// order the model accepts and real time allows.
func TestNoRaceSearchAgreesWithPorcupine(t *testing.T) {
	var counts [3]int // histories found linearizable, not, with an answer changed but linearizable
	rapid.Check(t, func(t *rapid.T) {
		c := historytest.RapidChooser{T: t}
		h := historytest.Simulate(c, historytest.DrawConfig(t))
		broken := rapid.IntRange(0, 3).Draw(t, "broken") > 0 && breakAnswer(c, h)
		h = roundTrip(t, h)
		verdict := Ok
		var ss streams
		for _, kh := range partition(h, h.Header.Model, &ss) {
			want, wantParts := porcupineKey(kh)
			if want == porcupine.Unknown {
				t.Skip("porcupine did not decide in time")
			}
			got := searchKey(kh, time.Now().Add(5*time.Second))
			if got.verdict == Unknown {
				t.Fatalf("key %q: porcupine says %v, the search did not end\n%s", kh.key, want, text(h))
			}
			if porcupineVerdict(want) != got.verdict {
				t.Fatalf("key %q: porcupine says %v, the search %v\n%s", kh.key, want, got.verdict, text(h))
			}
			if l, w := longestLen(got.prefixes), longestLen(wantParts); l != w {
				t.Fatalf("key %q: longest prefix %d, porcupine's %d\n%s", kh.key, l, w, text(h))
			}
			switch {
			case got.verdict == Ok:
				if len(got.prefixes) != 1 {
					t.Fatalf("key %q: %d linearizations, want 1", kh.key, len(got.prefixes))
				}
				requireLinearization(t, kh, got.prefixes[0])
			default:
				for _, p := range got.prefixes {
					requirePrefix(t, kh, p)
				}
				verdict = Illegal
			}
		}
		switch {
		case verdict == Illegal:
			counts[1]++
		case broken:
			counts[2]++
			fallthrough
		default:
			counts[0]++
		}
	})
	t.Logf("histories linearizable %d (with an answer changed %d), not %d", counts[0], counts[2], counts[1])
	if total := counts[0] + counts[1]; counts[0] < total/4 || counts[1] < total/4 {
		t.Fatalf("one kind is rare: %d linearizable histories, %d not", counts[0], counts[1])
	}
}
