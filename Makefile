# shmlab: make run (the main job), make test (the tests). See README.md.
GO       ?= go
BIN      := bin/shmlab
FUZZTIME ?= 30s
FUZZ_TARGETS := shm:FuzzDecodeFrame shm:FuzzParseValue shm:FuzzMasterHandle shm:FuzzCompactMaster linearizability:FuzzRead history/jepsen:FuzzRead history/kvlog:FuzzRead internal/jsonlex:FuzzLexer

.PHONY: all build run test check bench quickbench fuzz soak mutants mutants-short clean

all: check test

build:
	$(GO) build -o $(BIN) ./cmd/shmlab

# The main job: the bundled scenario suite, each scenario's seeds in both
# modes (real processes and the simulator), as a table; it fails on any
# scenario that does not meet its expectation (CI's gate). Every run is
# kept in shmlab-store/ (shmlab-store/latest is the last; README.md, "The
# run store").
run: build
	./$(BIN) run

# The tests with the race detector, then the few that are not run under it
# (TestNoRace*: in files built with !race, or skipped under it by
# internal/race): what they measure, a process's memory, the detector
# multiplies; and the CPU-bound, single-threaded work of the checkers and
# the simulator (one goroutine's search or simulation, thousands of times:
# the reductions, the shrinking, the zoo matrix, the swarm sweeps, the
# bundled suite in the simulator), which it slows five- to tenfold and has
# nothing to find in.
NORACE_PKGS := ./shm/ ./shm/shmtest/ ./linearizability/ ./cmd/shmlab/ ./scenarios/ ./sim/ ./sim/simtest/
test:
	$(GO) test -race -count=1 ./...
	$(GO) test -count=1 -run '^TestNoRace' $(NORACE_PKGS)

check:
	@out=$$(gofmt -l .); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) tool staticcheck ./...

# Go micro-benchmarks, then the full matrix with medians of three runs.
bench: build
	$(GO) test -run '^$$' -bench . -benchmem ./...
	./$(BIN) bench --runs 3

# A short benchmark of the reference against its floor.
quickbench: build
	./$(BIN) bench --workers 1,2 --inflight 1,64 --value 16,65536 --duration 300ms --warmup 100ms --runs 3

fuzz:
	@for t in $(FUZZ_TARGETS); do \
		pkg=$${t%%:*}; name=$${t#*:}; \
		echo "fuzz $$name in $$pkg for $(FUZZTIME)"; \
		$(GO) test -run '^$$' -fuzz "^$$name$$" -fuzztime $(FUZZTIME) ./$$pkg/ || exit 1; \
	done

# Long runs: 10,000 simulator seeds of swarm-drawn faults against the
# reference (make test runs 300), then the fuzz targets.
SOAK_SEEDS ?= 10000
soak: build
	$(GO) test -count=1 -run '^TestNoRaceReferenceSurvivesSwarm$$' ./sim/ -sim.seeds $(SOAK_SEEDS) -v
	./$(BIN) sim --swarm --seeds $(SOAK_SEEDS) --workers 4 --ops 250
	$(MAKE) fuzz

# Mutation testing: each mutant in mutants/ (a patch putting one small,
# realistic bug in the reference, the Node package or the checker) is
# applied to a copy of the tree, and the suite is run with it (the bundled
# suite in the simulator, 2000 swarm seeds, the bundled suite in its own
# modes, stopping at the first failure): the table, the score, each
# survivor with its reason. It fails when the score is below the figure
# committed in mutants/score. mutants-short is CI's: the simulator only,
# 300 swarm seeds. README.md, "Mutation testing".
MUTANTS_FLAGS ?=
mutants:
	$(GO) run ./internal/cmd/mutants $(MUTANTS_FLAGS)

mutants-short:
	$(GO) run ./internal/cmd/mutants --short $(MUTANTS_FLAGS)

clean:
	rm -rf bin
