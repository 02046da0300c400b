// Command workqueue-peer runs the workqueue benchmark workloads against client-go's util/workqueue, so the
// TypeScript benchmark (bench/src/workqueue.ts) can compare both sides in one run. It prints one JSON object.
//
//	workqueue-peer -workload cycle -workers 4 -n 100000 -runs 5
//
// Workloads (the same as in bench/src/workqueue.ts):
//
//	cycle   producer adds n distinct keys while `workers` goroutines get/done them; samples are items/s
//	dedupe  like cycle, but each worker re-adds the key it holds 3 times before done (the dirty-while-processing
//	        path), so every key is processed twice; samples are queue calls (add+get+done)/s
//	delay   addAfter of n keys with pseudo-random delays of 0-100 ms (xorshift32, same sequence as the TS side);
//	        samples are ms until the last key is done, plus the number of timers the queue created
//	memory  bytes of heap per queued key (n keys added and waiting; keys allocated before the baseline);
//	        also for n keys waiting in the delaying queue's heap
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/clock"
)

type result struct {
	Workload   string    `json:"workload"`
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

func cycle(keys []string, workers int) float64 {
	q := workqueue.NewTyped[string]()
	var wg sync.WaitGroup
	counts := make([]int, workers)
	start := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for {
				item, shutdown := q.Get()
				if shutdown {
					return
				}
				counts[w]++
				q.Done(item)
			}
		}(w)
	}
	for _, k := range keys {
		q.Add(k)
	}
	q.ShutDown()
	wg.Wait()
	elapsed := time.Since(start)
	total := 0
	for _, c := range counts {
		total += c
	}
	if total != len(keys) {
		panic(fmt.Sprintf("cycle: processed %d of %d", total, len(keys)))
	}
	return float64(len(keys)) / elapsed.Seconds()
}

func dedupe(keys []string, index map[string]int, workers int) float64 {
	q := workqueue.NewTyped[string]()
	seen := make([]uint8, len(keys))
	want := int64(2 * len(keys))
	var dones atomic.Int64
	finished := make(chan struct{})
	var elapsed time.Duration
	var wg sync.WaitGroup
	start := time.Now()
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
				if dones.Add(1) == want {
					elapsed = time.Since(start)
					close(finished)
				}
			}
		}()
	}
	for _, k := range keys {
		q.Add(k)
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

func main() {
	workload := flag.String("workload", "cycle", "cycle | dedupe | delay | memory")
	workers := flag.Int("workers", 1, "concurrent worker goroutines")
	n := flag.Int("n", 100000, "distinct keys")
	runs := flag.Int("runs", 5, "measured runs (after one warm-up run)")
	flag.Parse()

	keys := makeKeys(*n)
	res := result{Workload: *workload, Workers: *workers, N: *n, GoVersion: runtime.Version(), GOMAXPROCS: runtime.GOMAXPROCS(0)}
	switch *workload {
	case "cycle":
		cycle(keys, *workers)
		for r := 0; r < *runs; r++ {
			res.Samples = append(res.Samples, cycle(keys, *workers))
		}
	case "dedupe":
		index := make(map[string]int, len(keys))
		for i, k := range keys {
			index[k] = i
		}
		dedupe(keys, index, *workers)
		for r := 0; r < *runs; r++ {
			res.Samples = append(res.Samples, dedupe(keys, index, *workers))
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
