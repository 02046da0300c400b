// Command workqueue-peer runs the workqueue benchmark workloads against client-go's util/workqueue, so the
// TypeScript benchmark (bench/src/workqueue.ts) can compare both sides in one run. It prints one JSON object.
//
//	workqueue-peer -workload cycle -regime stream -workers 4 -n 100000 -runs 5
//	workqueue-peer -serve -n 100000   (then one command per stdin line: "cycle stream 4", "dedupe backlog 4", "delay 4")
//
// Workloads (the same as in bench/src/_workqueue_workloads.ts):
//
//	cycle   add -> get -> done of n distinct keys with `workers` goroutines; samples are items/s
//	dedupe  like cycle, but each worker re-adds the key it holds 3 times before done the first time it sees it
//	        (the dirty-while-processing path), so every key is processed twice; samples are queue calls/s
//	delay   addAfter of n keys with pseudo-random delays of 0-100 ms (xorshift32, same sequence as the TS side);
//	        samples are ms until the last key is done, plus the number of timers the queue created
//	memory  heap bytes per queued key (n keys added and waiting; keys allocated before the baseline);
//	        also per key waiting in the delaying queue's heap
//
// cycle and dedupe take -regime: "stream" (chunks of 128 keys, the producer waits until each chunk is processed)
// or "backlog" (all keys added first, then drained).
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"
)

type result struct {
	Workload   string    `json:"workload"`
	Regime     string    `json:"regime,omitempty"`
	Workers    int       `json:"workers"`
	N          int       `json:"n"`
	Samples    []float64 `json:"samples"`
	Timers     []int64   `json:"timers,omitempty"`
	Delayed    []float64 `json:"delayedSamples,omitempty"`
	GoVersion  string    `json:"goVersion"`
	GOMAXPROCS int       `json:"gomaxprocs"`
}

func makeKeys(n int) []string {
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("namespace-%d/object-%d", i%100, i)
	}
	return keys
}

// xorshift32, identical to the TypeScript side, so both sides use the same delays.
func delaysMicros(n int) []time.Duration {
	x := uint32(2463534242)
	out := make([]time.Duration, n)
	for i := range out {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		out[i] = time.Duration(x%100001) * time.Microsecond
	}
	return out
}

const chunk = 128

// feed adds the keys as the regime says: "backlog" adds them all at once; "stream" adds chunks of 128 and waits
// until the workers have finished each chunk (signalled on chunkDone) before the next, as the TypeScript side's
// producer does by yielding a macrotask between chunks.
func feed(q workqueue.TypedInterface[string], keys []string, regime string, chunkDone <-chan struct{}) {
	if regime == "backlog" {
		for _, k := range keys {
			q.Add(k)
		}
		return
	}
	for start := 0; start < len(keys); start += chunk {
		end := min(start+chunk, len(keys))
		for _, k := range keys[start:end] {
			q.Add(k)
		}
		<-chunkDone
	}
}

// cycle: add -> get -> done of every key with `workers` goroutines; returns items/s.
func cycle(keys []string, workers int, regime string) float64 {
	q := workqueue.NewTyped[string]()
	n := int64(len(keys))
	var processed atomic.Int64
	chunkDone := make(chan struct{}, 1)
	var wg sync.WaitGroup
	start := time.Now()
	if regime == "backlog" {
		feed(q, keys, regime, nil)
	}
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				item, shutdown := q.Get()
				if shutdown {
					return
				}
				q.Done(item)
				if p := processed.Add(1); regime == "stream" && (p%chunk == 0 || p == n) {
					chunkDone <- struct{}{}
				}
			}
		}()
	}
	if regime == "stream" {
		feed(q, keys, regime, chunkDone)
	}
	q.ShutDown()
	wg.Wait()
	elapsed := time.Since(start)
	if processed.Load() != n {
		panic(fmt.Sprintf("cycle: processed %d of %d", processed.Load(), n))
	}
	return float64(n) / elapsed.Seconds()
}

// dedupe: the first time a worker gets a key it re-adds it 3 times before Done (one re-queue, two adds collapsed
// into it), so every key is processed twice; returns queue calls (add+get+done)/s.
func dedupe(keys []string, index map[string]int, workers int, regime string) float64 {
	q := workqueue.NewTyped[string]()
	seen := make([]uint8, len(keys))
	want := int64(2 * len(keys))
	var dones atomic.Int64
	chunkDone := make(chan struct{}, 1)
	finished := make(chan struct{})
	var elapsed time.Duration
	var wg sync.WaitGroup
	start := time.Now()
	if regime == "backlog" {
		feed(q, keys, regime, nil)
	}
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				item, shutdown := q.Get()
				if shutdown {
					return
				}
				i := index[item]
				// A key is never held by two workers at once, so its slot needs no lock.
				if seen[i] == 0 {
					seen[i] = 1
					q.Add(item)
					q.Add(item)
					q.Add(item)
				}
				q.Done(item)
				d := dones.Add(1)
				if regime == "stream" && (d%(2*chunk) == 0 || d == want) {
					chunkDone <- struct{}{}
				}
				if d == want {
					elapsed = time.Since(start)
					close(finished)
				}
			}
		}()
	}
	if regime == "stream" {
		feed(q, keys, regime, chunkDone)
	}
	<-finished
	q.ShutDown()
	wg.Wait()
	// n adds by the producer, 3n re-adds, 2n gets, 2n dones.
	return float64(8*len(keys)) / elapsed.Seconds()
}

// countingClock is the real clock, counting the timers the delaying queue creates.
type countingClock struct {
	clock.RealClock
	timers atomic.Int64
}

func (c *countingClock) NewTimer(d time.Duration) clock.Timer {
	c.timers.Add(1)
	return c.RealClock.NewTimer(d)
}

func delay(keys []string, delays []time.Duration, workers int) (float64, int64) {
	clk := &countingClock{}
	q := workqueue.NewTypedDelayingQueueWithConfig(workqueue.TypedDelayingQueueConfig[string]{Clock: clk})
	var processed atomic.Int64
	n := int64(len(keys))
	finished := make(chan struct{})
	var wg sync.WaitGroup
	start := time.Now()
	var elapsed time.Duration
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				item, shutdown := q.Get()
				if shutdown {
					return
				}
				q.Done(item)
				if processed.Add(1) == n {
					elapsed = time.Since(start)
					close(finished)
				}
			}
		}()
	}
	for i, k := range keys {
		q.AddAfter(k, delays[i])
	}
	<-finished
	q.ShutDown()
	wg.Wait()
	return float64(elapsed.Microseconds()) / 1000, clk.timers.Load()
}

func heapAlloc() uint64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func memory(keys []string) float64 {
	before := heapAlloc()
	q := workqueue.NewTyped[string]()
	for _, k := range keys {
		q.Add(k)
	}
	after := heapAlloc()
	if q.Len() != len(keys) {
		panic("memory: wrong length")
	}
	runtime.KeepAlive(q)
	q.ShutDown()
	return float64(int64(after)-int64(before)) / float64(len(keys))
}

func memoryDelayed(keys []string) float64 {
	before := heapAlloc()
	q := workqueue.NewTypedDelayingQueue[string]()
	for _, k := range keys {
		q.AddAfter(k, time.Hour)
	}
	// AddAfter hands entries to the queue's goroutine through a channel; let it drain.
	time.Sleep(100 * time.Millisecond)
	after := heapAlloc()
	runtime.KeepAlive(q)
	q.ShutDown()
	return float64(int64(after)-int64(before)) / float64(len(keys))
}

// serve answers one measurement per input line, so the TypeScript side can alternate runs of both sides (both
// then see the same machine load): "cycle stream 4", "dedupe backlog 4", "delay 4" -> {"value":...,"timers":...}.
func serve(keys []string) {
	index := make(map[string]int, len(keys))
	for i, k := range keys {
		index[k] = i
	}
	delays := delaysMicros(len(keys))
	in := bufio.NewScanner(os.Stdin)
	out := json.NewEncoder(os.Stdout)
	for in.Scan() {
		f := strings.Fields(in.Text())
		if len(f) == 0 {
			continue
		}
		var reply struct {
			Value  float64 `json:"value"`
			Timers int64   `json:"timers,omitempty"`
			Error  string  `json:"error,omitempty"`
		}
		atoi := func(s string) int {
			v, err := strconv.Atoi(s)
			if err != nil {
				reply.Error = err.Error()
			}
			return v
		}
		switch {
		case f[0] == "cycle" && len(f) == 3:
			if w := atoi(f[2]); reply.Error == "" {
				reply.Value = cycle(keys, w, f[1])
			}
		case f[0] == "dedupe" && len(f) == 3:
			if w := atoi(f[2]); reply.Error == "" {
				reply.Value = dedupe(keys, index, w, f[1])
			}
		case f[0] == "delay" && len(f) == 2:
			if w := atoi(f[1]); reply.Error == "" {
				reply.Value, reply.Timers = delay(keys, delays, w)
			}
		default:
			reply.Error = fmt.Sprintf("unknown command %q", in.Text())
		}
		if err := out.Encode(reply); err != nil {
			panic(err)
		}
	}
}

func main() {
	serveMode := flag.Bool("serve", false, "answer measurement commands from stdin, one per line")
	workload := flag.String("workload", "cycle", "cycle | dedupe | delay | memory")
	regime := flag.String("regime", "stream", "stream | backlog (cycle and dedupe)")
	workers := flag.Int("workers", 1, "concurrent worker goroutines")
	n := flag.Int("n", 100000, "distinct keys")
	runs := flag.Int("runs", 5, "measured runs (after one warm-up run)")
	flag.Parse()

	keys := makeKeys(*n)
	if *serveMode {
		fmt.Printf("{\"ready\":true,\"goVersion\":%q,\"gomaxprocs\":%d}\n", runtime.Version(), runtime.GOMAXPROCS(0))
		serve(keys)
		return
	}
	res := result{Workload: *workload, Regime: *regime, Workers: *workers, N: *n, GoVersion: runtime.Version(), GOMAXPROCS: runtime.GOMAXPROCS(0)}
	switch *workload {
	case "cycle":
		cycle(keys, *workers, *regime)
		for r := 0; r < *runs; r++ {
			res.Samples = append(res.Samples, cycle(keys, *workers, *regime))
		}
	case "dedupe":
		index := make(map[string]int, len(keys))
		for i, k := range keys {
			index[k] = i
		}
		dedupe(keys, index, *workers, *regime)
		for r := 0; r < *runs; r++ {
			res.Samples = append(res.Samples, dedupe(keys, index, *workers, *regime))
		}
	case "delay":
		delays := delaysMicros(*n)
		delay(keys, delays, *workers)
		for r := 0; r < *runs; r++ {
			ms, timers := delay(keys, delays, *workers)
			res.Samples = append(res.Samples, ms)
			res.Timers = append(res.Timers, timers)
		}
	case "memory":
		for r := 0; r < *runs; r++ {
			res.Samples = append(res.Samples, memory(keys))
			res.Delayed = append(res.Delayed, memoryDelayed(keys))
		}
	default:
		fmt.Fprintf(os.Stderr, "unknown workload %q\n", *workload)
		os.Exit(2)
	}
	if err := json.NewEncoder(os.Stdout).Encode(res); err != nil {
		panic(err)
	}
}
