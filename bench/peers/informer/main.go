// Command informer-peer measures client-go's SharedInformer for the TypeScript informer benchmark
// (bench/src/informer.ts): the time from starting a ConfigMap informer to HasSynced, and the heap and
// RSS after sync (after a forced GC). It prints one JSON object.
//
//	informer-peer -kubeconfig /path -namespace bench -watchlist=false
//
// -watchlist selects client-go's WatchListClient feature (streaming the initial state) or the classic
// list + watch, through the KUBE_FEATURE_WatchListClient environment variable client-go reads.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"
)

type result struct {
	SyncMs     float64 `json:"syncMs"`
	Objects    int     `json:"objects"`
	HeapBytes  uint64  `json:"heapBytes"`
	RSSBytes   uint64  `json:"rssBytes"`
	BaseHeap   uint64  `json:"baselineHeapBytes"`
	BaseRSS    uint64  `json:"baselineRssBytes"`
	WatchList  bool    `json:"watchList"`
	GoVersion  string  `json:"goVersion"`
	GOMAXPROCS int     `json:"gomaxprocs"`
}

func rss() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "VmRSS:") {
			f := strings.Fields(line)
			if len(f) >= 2 {
				kb, _ := strconv.ParseUint(f[1], 10, 64)
				return kb * 1024
			}
		}
	}
	return 0
}

func heap() uint64 {
	runtime.GC()
	debug.FreeOSMemory()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

func main() {
	kubeconfig := flag.String("kubeconfig", "", "path of the kubeconfig")
	namespace := flag.String("namespace", "", "namespace to watch")
	watchList := flag.Bool("watchlist", false, "use watch-list streaming (WatchListClient)")
	flag.Parse()

	cfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	// No client-side throttling: the other sides have none either.
	cfg.QPS = -1
	cfg.ContentType = "application/json"
	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	baseHeap, baseRSS := heap(), rss()

	stop := make(chan struct{})
	factory := informers.NewSharedInformerFactoryWithOptions(cs, 0, informers.WithNamespace(*namespace))
	inf := factory.Core().V1().ConfigMaps().Informer()
	start := time.Now()
	factory.Start(stop)
	// Poll every millisecond (WaitForCacheSync polls every 100 ms, which would blur the number).
	for !inf.HasSynced() {
		time.Sleep(time.Millisecond)
	}
	syncMs := float64(time.Since(start).Microseconds()) / 1000
	n := len(inf.GetStore().List())
	_ = corev1.ConfigMap{}
	res := result{
		SyncMs:     syncMs,
		Objects:    n,
		HeapBytes:  heap(),
		RSSBytes:   rss(),
		BaseHeap:   baseHeap,
		BaseRSS:    baseRSS,
		WatchList:  *watchList,
		GoVersion:  runtime.Version(),
		GOMAXPROCS: runtime.GOMAXPROCS(0),
	}
	runtime.KeepAlive(inf)
	close(stop)
	factory.Shutdown()
	out, _ := json.Marshal(res)
	fmt.Println(string(out))
}
