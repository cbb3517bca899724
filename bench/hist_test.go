package bench

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"
)

// lastBucketStart is where the histogram's last representable bucket
// begins: bucketLow of the bucket after it is 1<<63, beyond int64.
const lastBucketStart = 31 << 58

func TestHistQuantileUniform(t *testing.T) {
	var h Hist
	for us := 1000; us >= 1; us-- { // order must not matter
		h.Record(time.Duration(us) * time.Microsecond)
	}
	if h.N != 1000 {
		t.Fatalf("N = %d, want 1000", h.N)
	}
	for _, tt := range []struct {
		q    float64
		want time.Duration
	}{
		{0, time.Microsecond},
		{0.5, 500 * time.Microsecond},
		{0.99, 990 * time.Microsecond},
		{1, 1000 * time.Microsecond},
	} {
		got := h.Quantile(tt.q)
		if diff := (got - tt.want).Abs(); diff > tt.want/16 {
			t.Errorf("Quantile(%v) = %v, want %v within 6.25%%", tt.q, got, tt.want)
		}
	}
}

func TestHistQuantileExactBelowSixteen(t *testing.T) {
	var h Hist
	for ns := 1; ns <= 5; ns++ {
		h.Record(time.Duration(ns))
	}
	for _, tt := range []struct {
		q    float64
		want time.Duration
	}{{0, 1}, {0.25, 2}, {0.5, 3}, {0.75, 4}, {1, 5}} {
		if got := h.Quantile(tt.q); got != tt.want {
			t.Errorf("Quantile(%v) = %v, want %v", tt.q, got, tt.want)
		}
	}
}

func TestHistEmptyAndNegative(t *testing.T) {
	var h Hist
	for _, q := range []float64{0, 0.5, 0.99, 1} {
		if got := h.Quantile(q); got != 0 {
			t.Errorf("empty Quantile(%v) = %v, want 0", q, got)
		}
	}
	h.Record(-time.Second) // a clock step backwards counts as zero
	if h.Counts[0] != 1 || h.N != 1 || h.Quantile(0.5) != 0 {
		t.Errorf("after Record(-1s): Counts[0] %d, N %d, p50 %v; want 1, 1, 0", h.Counts[0], h.N, h.Quantile(0.5))
	}
}

func TestHistMerge(t *testing.T) {
	var a, b, all Hist
	for i := range 300 {
		d := time.Duration(i*i) * time.Microsecond
		all.Record(d)
		if i%3 == 0 {
			a.Record(d)
		} else {
			b.Record(d)
		}
	}
	a.Merge(&b)
	if diff := cmp.Diff(all, a); diff != "" {
		t.Fatalf("merged histogram mismatch (-want +got):\n%s", diff)
	}
	var empty Hist
	a.Merge(&empty)
	if diff := cmp.Diff(all, a); diff != "" {
		t.Fatalf("merging an empty histogram changed it (-want +got):\n%s", diff)
	}
}

func TestBucketBounds(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		x := rapid.Int64Range(0, 1<<63-1).Draw(t, "ns")
		b := bucket(x)
		if b < 0 || b >= len(Hist{}.Counts) {
			t.Fatalf("bucket(%d) = %d, outside [0, %d)", x, b, len(Hist{}.Counts))
		}
		if lo := bucketLow(b); lo > x {
			t.Fatalf("bucketLow(bucket(%d)) = %d > %d", x, lo, x)
		}
		if x >= lastBucketStart {
			return // the next bucket's bound overflows int64
		}
		if hi := bucketLow(b + 1); x >= hi {
			t.Fatalf("bucketLow(bucket(%d)+1) = %d <= %d", x, hi, x)
		}
	})
}

func TestBucketWidthAndOrder(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		x := rapid.Int64Range(0, lastBucketStart-1).Draw(t, "x")
		y := rapid.Int64Range(x, lastBucketStart-1).Draw(t, "y")
		if bucket(x) > bucket(y) {
			t.Fatalf("bucket(%d) = %d > bucket(%d) = %d", x, bucket(x), y, bucket(y))
		}
		b := bucket(x)
		lo, hi := bucketLow(b), bucketLow(b+1)
		if x < 16 && lo != x {
			t.Fatalf("bucketLow(bucket(%d)) = %d, want exact below 16", x, lo)
		}
		if x >= 16 && (hi-lo)*16 > lo {
			t.Fatalf("bucket %d is [%d, %d): wider than a sixteenth of its start", b, lo, hi)
		}
	})
}

func TestBucketLowRoundTrip(t *testing.T) {
	for b := range bucket(lastBucketStart) + 1 {
		if got := bucket(bucketLow(b)); got != b {
			t.Errorf("bucket(bucketLow(%d) = %d) = %d", b, bucketLow(b), got)
		}
	}
}

// TestHistQuantileMatchesSorted checks Quantile against the sorted sample:
// it is the start of the bucket holding the sample of rank q*(N-1).
func TestHistQuantileMatchesSorted(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ds := rapid.SliceOfN(rapid.Int64Range(0, int64(10*time.Second)), 1, 200).Draw(t, "ns")
		q := rapid.Float64Range(0, 1).Draw(t, "q")
		var h Hist
		for _, d := range ds {
			h.Record(time.Duration(d))
		}
		slices.Sort(ds)
		exact := ds[int(q*float64(len(ds)-1))]
		got := int64(h.Quantile(q))
		if want := bucketLow(bucket(exact)); got != want {
			t.Fatalf("Quantile(%v) = %d, want %d (start of the bucket of %d)", q, got, want, exact)
		}
		if got > exact || exact-got > exact/16 {
			t.Fatalf("Quantile(%v) = %d, more than 6.25%% below %d", q, got, exact)
		}
	})
}

func drawHist(t *rapid.T) *Hist {
	h := &Hist{}
	for _, d := range rapid.SliceOf(rapid.Int64Range(-10, 1<<40)).Draw(t, "ns") {
		h.Record(time.Duration(d))
	}
	return h
}

func TestSparseRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		h := drawHist(t)
		s := h.sparse()
		for i, c := range s {
			if c == 0 {
				t.Fatalf("sparse holds bucket %d with count 0", i)
			}
		}
		if diff := cmp.Diff(h, s.hist()); diff != "" {
			t.Fatalf("sparse().hist() mismatch (-want +got):\n%s", diff)
		}
	})
}

// TestReportRoundTrip sends a histogram through a worker's report, as
// collect reads it.
func TestReportRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		h := drawHist(t)
		var buf bytes.Buffer
		if err := writeReport(&buf, 7, 9, time.Second, h); err != nil {
			t.Fatal(err)
		}
		var r report
		if err := json.Unmarshal(buf.Bytes(), &r); err != nil {
			t.Fatalf("report %q: %v", buf.String(), err)
		}
		if r.Ops != 7 || r.All != 9 || r.Span != time.Second {
			t.Fatalf("report = %d ops, %d all, span %v; want 7, 9, 1s", r.Ops, r.All, r.Span)
		}
		if diff := cmp.Diff(h, r.Hist.hist()); diff != "" {
			t.Fatalf("histogram through the report mismatch (-want +got):\n%s", diff)
		}
	})
}

func TestSparseHistIgnoresOutOfRange(t *testing.T) {
	h := sparse{-1: 5, 7: 2, len(Hist{}.Counts): 3}.hist()
	want := &Hist{N: 2}
	want.Counts[7] = 2
	if diff := cmp.Diff(want, h); diff != "" {
		t.Fatalf("hist() mismatch (-want +got):\n%s", diff)
	}
}
