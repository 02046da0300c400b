// Command controller-peer is the client-go side of the controller benchmark (bench/src/controller.ts): a
// plain client-go controller implementing the original Mini Task Runner lifecycle, written the way the
// original was (shared informers, listers, a rate-limited workqueue, worker goroutines):
//
//   - a TaskRun (minitask.myorg.dev/v1) with an empty phase → look up its Task in the lister → create the
//     Pod `<run>-pod` (steps as init containers, the last step as the main container, `/bin/sh -c
//     <script>`, restartPolicy Never, a controller owner reference, the labels minitask-controller sets)
//     → status Pending with podName;
//   - Pod Running → Running with startTime; Pod Succeeded/Failed → the same phase with finishTime;
//   - Pod missing from the lister while the run is active → Failed (the original's rule);
//   - terminal phases are left alone; errors requeue with rate limiting.
//
// TaskRuns and Tasks go through the dynamic client (unstructured objects), Pods through the typed
// clientset; the Pod informer selects `app.kubernetes.io/managed-by=minitask-controller`. No client-side
// rate limit (QPS -1), no logging on the hot path.
//
//	controller-peer --kubeconfig /path --namespace bench --workers 4 [--metrics-bind-address 127.0.0.1:0]
//
// Once its caches are synced and its workers run, it prints one JSON line on stdout,
// {"ready":true,"metricsPort":N}. GET /metrics on that port serves Prometheus text with the same names the
// TypeScript controller uses for the figures the benchmark compares: rest_client_requests_total{code,
// method,resource} and process_* — plus minitask_peer_wrong_outcomes_total{kind} and
// minitask_peer_reconciles_total. On SIGTERM or SIGINT it prints the same counters as one JSON line and exits.
//
// Wrong outcomes it counts (none of them can be right in the benchmark, where nothing deletes a pod):
//
//	failed_pod_missing   a run set Failed because its pod was not in the pod lister (a stale cache)
//	second_pod_attempt   a pod create answered 409 AlreadyExists (the run's pod had already been made)
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/informers"
	"k8s.io/client-go/kubernetes"
	corelisters "k8s.io/client-go/listers/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/util/workqueue"
	"k8s.io/utils/ptr"
)

const (
	group          = "minitask.myorg.dev"
	labelTaskRun   = group + "/taskrun"
	labelTask      = group + "/task"
	labelManagedBy = "app.kubernetes.io/managed-by"
	managedBy      = "minitask-controller"
	annotationName = group + "/taskrun-name"
)

var (
	taskRunsGVR = schema.GroupVersionResource{Group: group, Version: "v1", Resource: "taskruns"}
	tasksGVR    = schema.GroupVersionResource{Group: group, Version: "v1", Resource: "tasks"}
)

// boundedName is contract.ts's boundedName: base+suffix, cut with a hash of the base past 63 characters.
func boundedName(base, suffix string) string {
	const max = 63
	if len(base)+len(suffix) <= max {
		return base + suffix
	}
	sum := sha256.Sum256([]byte(base))
	keep := base[:max-len(suffix)-9]
	return strings.TrimRight(keep, "-.") + "-" + hex.EncodeToString(sum[:])[:8] + suffix
}

// ---- request and outcome counters -------------------------------------------------------------------------

type counters struct {
	mu       sync.Mutex
	requests map[[3]string]uint64 // code, method, resource
	wrong    map[string]*atomic.Uint64
	recs     atomic.Uint64
}

func newCounters() *counters {
	c := &counters{requests: map[[3]string]uint64{}, wrong: map[string]*atomic.Uint64{}}
	for _, k := range []string{"failed_pod_missing", "second_pod_attempt"} {
		c.wrong[k] = &atomic.Uint64{}
	}
	return c
}

// /api/v1/namespaces/ns/pods/x → "pods"; /apis/g/v/namespaces/ns/taskruns/x/status → "taskruns/status.g".
func resourceOf(path string) string {
	parts := strings.Split(strings.Trim(path, "/"), "/")
	grp := ""
	switch {
	case len(parts) >= 2 && parts[0] == "api":
		parts = parts[2:]
	case len(parts) >= 3 && parts[0] == "apis":
		grp = parts[1]
		parts = parts[3:]
	default:
		return ""
	}
	if len(parts) >= 2 && parts[0] == "namespaces" {
		if len(parts) == 2 {
			parts = []string{"namespaces"}
		} else {
			parts = parts[2:]
		}
	}
	if len(parts) == 0 {
		return ""
	}
	res := parts[0]
	if len(parts) >= 3 {
		res += "/" + parts[2]
	}
	if grp != "" {
		res += "." + grp
	}
	return res
}

type countingTransport struct {
	next http.RoundTripper
	c    *counters
}

func (t *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := t.next.RoundTrip(req)
	code := "<error>"
	if err == nil {
		code = strconv.Itoa(res.StatusCode)
	}
	k := [3]string{code, req.Method, resourceOf(req.URL.Path)}
	t.c.mu.Lock()
	t.c.requests[k]++
	t.c.mu.Unlock()
	return res, err
}

var statFields = regexp.MustCompile(`\) \S+ (.*)$`)

// cpuSeconds and rss from /proc/self (the benchmark reads the same files from outside).
func procStats() (cpu float64, rss, hwm uint64) {
	if b, err := os.ReadFile("/proc/self/stat"); err == nil {
		if m := statFields.FindSubmatch(b); m != nil {
			f := strings.Fields(string(m[1]))
			// after "(comm) state": ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
			if len(f) > 11 {
				u, _ := strconv.ParseFloat(f[10], 64)
				s, _ := strconv.ParseFloat(f[11], 64)
				cpu = (u + s) / 100 // USER_HZ
			}
		}
	}
	if b, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			f := strings.Fields(line)
			if len(f) < 2 {
				continue
			}
			kb, _ := strconv.ParseUint(f[1], 10, 64)
			switch f[0] {
			case "VmRSS:":
				rss = kb * 1024
			case "VmHWM:":
				hwm = kb * 1024
			}
		}
	}
	return
}

func (c *counters) prometheus() string {
	var b strings.Builder
	b.WriteString("# TYPE rest_client_requests_total counter\n")
	c.mu.Lock()
	keys := make([][3]string, 0, len(c.requests))
	for k := range c.requests {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return fmt.Sprint(keys[i]) < fmt.Sprint(keys[j]) })
	for _, k := range keys {
		fmt.Fprintf(&b, "rest_client_requests_total{code=%q,method=%q,resource=%q} %d\n", k[0], k[1], k[2], c.requests[k])
	}
	c.mu.Unlock()
	b.WriteString("# TYPE minitask_peer_wrong_outcomes_total counter\n")
	for _, k := range []string{"failed_pod_missing", "second_pod_attempt"} {
		fmt.Fprintf(&b, "minitask_peer_wrong_outcomes_total{kind=%q} %d\n", k, c.wrong[k].Load())
	}
	fmt.Fprintf(&b, "# TYPE minitask_peer_reconciles_total counter\nminitask_peer_reconciles_total %d\n", c.recs.Load())
	cpu, rss, hwm := procStats()
	fmt.Fprintf(&b, "process_cpu_seconds_total %g\nprocess_resident_memory_bytes %d\nprocess_resident_memory_peak_bytes %d\n", cpu, rss, hwm)
	return b.String()
}

func (c *counters) summary() map[string]any {
	c.mu.Lock()
	writes := map[string]uint64{}
	for k, v := range c.requests {
		if k[1] != "GET" {
			writes[k[1]+" "+k[2]+" "+k[0]] += v
		}
	}
	c.mu.Unlock()
	wrong := map[string]uint64{}
	for k, v := range c.wrong {
		wrong[k] = v.Load()
	}
	cpu, rss, hwm := procStats()
	return map[string]any{"writes": writes, "wrongOutcomes": wrong, "reconciles": c.recs.Load(), "cpuSeconds": cpu, "rssBytes": rss, "peakRssBytes": hwm}
}

// ---- the controller -----------------------------------------------------------------------------------------

type controller struct {
	dyn      dynamic.Interface
	kube     kubernetes.Interface
	runs     cache.GenericLister
	tasks    cache.GenericLister
	pods     corelisters.PodLister
	queue    workqueue.TypedRateLimitingInterface[string]
	counters *counters
}

func (c *controller) enqueue(obj any) {
	if key, err := cache.MetaNamespaceKeyFunc(obj); err == nil {
		c.queue.Add(key)
	}
}

func (c *controller) enqueueOwner(obj any) {
	if t, ok := obj.(cache.DeletedFinalStateUnknown); ok {
		obj = t.Obj
	}
	pod, ok := obj.(*corev1.Pod)
	if !ok {
		return
	}
	if ref := metav1.GetControllerOf(pod); ref != nil && ref.Kind == "TaskRun" {
		c.queue.Add(pod.Namespace + "/" + ref.Name)
	}
}

func (c *controller) worker(ctx context.Context) {
	for {
		key, shutdown := c.queue.Get()
		if shutdown {
			return
		}
		c.counters.recs.Add(1)
		if err := c.reconcile(ctx, key); err != nil {
			c.queue.AddRateLimited(key)
		} else {
			c.queue.Forget(key)
		}
		c.queue.Done(key)
	}
}

func podFor(run *unstructured.Unstructured, taskName string, steps []any) (*corev1.Pod, error) {
	containers := make([]corev1.Container, 0, len(steps))
	for _, s := range steps {
		step, ok := s.(map[string]any)
		if !ok {
			return nil, errors.New("step is not an object")
		}
		name, _ := step["name"].(string)
		image, _ := step["image"].(string)
		script, _ := step["script"].(string)
		containers = append(containers, corev1.Container{
			Name:    "step-" + name,
			Image:   image,
			Command: []string{"/bin/sh", "-c", script},
			SecurityContext: &corev1.SecurityContext{
				AllowPrivilegeEscalation: ptr.To(false),
				Capabilities:             &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}},
				SeccompProfile:           &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
			},
		})
	}
	if len(containers) == 0 {
		return nil, errors.New("task has no steps")
	}
	name := run.GetName()
	return &corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{
			Name:      boundedName(name, "-pod"),
			Namespace: run.GetNamespace(),
			Labels: map[string]string{
				labelTaskRun:   boundedName(name, ""),
				labelTask:      boundedName(taskName, ""),
				labelManagedBy: managedBy,
			},
			Annotations: map[string]string{annotationName: name},
			OwnerReferences: []metav1.OwnerReference{{
				APIVersion:         group + "/v1",
				Kind:               "TaskRun",
				Name:               name,
				UID:                run.GetUID(),
				Controller:         ptr.To(true),
				BlockOwnerDeletion: ptr.To(true),
			}},
		},
		Spec: corev1.PodSpec{
			RestartPolicy:                corev1.RestartPolicyNever,
			InitContainers:               containers[:len(containers)-1],
			Containers:                   containers[len(containers)-1:],
			EnableServiceLinks:           ptr.To(false),
			AutomountServiceAccountToken: ptr.To(false),
			SecurityContext: &corev1.PodSecurityContext{
				SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault},
			},
		},
	}, nil
}

func now() string { return time.Now().UTC().Format(time.RFC3339) }

func (c *controller) setStatus(ctx context.Context, run *unstructured.Unstructured, fields map[string]string) error {
	run = run.DeepCopy()
	status, _, _ := unstructured.NestedMap(run.Object, "status")
	if status == nil {
		status = map[string]any{}
	}
	for k, v := range fields {
		status[k] = v
	}
	run.Object["status"] = status
	_, err := c.dyn.Resource(taskRunsGVR).Namespace(run.GetNamespace()).UpdateStatus(ctx, run, metav1.UpdateOptions{})
	return err
}

func (c *controller) reconcile(ctx context.Context, key string) error {
	ns, name, err := cache.SplitMetaNamespaceKey(key)
	if err != nil {
		return nil
	}
	obj, err := c.runs.ByNamespace(ns).Get(name)
	if apierrors.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	run, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return nil
	}
	phase, _, _ := unstructured.NestedString(run.Object, "status", "phase")
	if phase == "Succeeded" || phase == "Failed" {
		return nil
	}
	podName := boundedName(name, "-pod")
	pod, err := c.pods.Pods(ns).Get(podName)
	if err != nil && !apierrors.IsNotFound(err) {
		return err
	}
	if phase == "" {
		if pod == nil {
			taskName, _, _ := unstructured.NestedString(run.Object, "spec", "taskRef")
			taskObj, err := c.tasks.ByNamespace(ns).Get(taskName)
			if err != nil {
				return err // the original left such a run empty-phased; here it is retried with backoff
			}
			task, _ := taskObj.(*unstructured.Unstructured)
			steps, _, _ := unstructured.NestedSlice(task.Object, "spec", "steps")
			p, err := podFor(run, taskName, steps)
			if err != nil {
				return nil
			}
			if _, err := c.kube.CoreV1().Pods(ns).Create(ctx, p, metav1.CreateOptions{}); err != nil {
				if apierrors.IsAlreadyExists(err) {
					c.counters.wrong["second_pod_attempt"].Add(1)
				}
				return err
			}
		}
		return c.setStatus(ctx, run, map[string]string{"phase": "Pending", "podName": podName})
	}
	if pod == nil {
		// The original rule: the pod is gone while the run is active. In the benchmark nothing deletes a
		// pod, so this is always the cache being behind the run's own Pending write.
		c.counters.wrong["failed_pod_missing"].Add(1)
		return c.setStatus(ctx, run, map[string]string{"phase": "Failed", "finishTime": now()})
	}
	startTime, _, _ := unstructured.NestedString(run.Object, "status", "startTime")
	switch pod.Status.Phase {
	case corev1.PodRunning:
		if phase != "Running" {
			f := map[string]string{"phase": "Running"}
			if startTime == "" {
				f["startTime"] = now()
			}
			return c.setStatus(ctx, run, f)
		}
	case corev1.PodSucceeded, corev1.PodFailed:
		f := map[string]string{"phase": string(pod.Status.Phase), "finishTime": now()}
		if startTime == "" {
			f["startTime"] = f["finishTime"]
		}
		return c.setStatus(ctx, run, f)
	}
	return nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "controller-peer:", err)
	os.Exit(1)
}

func main() {
	kubeconfig := flag.String("kubeconfig", "", "path of the kubeconfig (required)")
	namespace := flag.String("namespace", "", "the namespace to work in (required)")
	workers := flag.Int("workers", 4, "number of worker goroutines")
	metricsAddr := flag.String("metrics-bind-address", "127.0.0.1:0", "address of /metrics")
	flag.Parse()
	if *kubeconfig == "" || *namespace == "" || *workers < 1 || flag.NArg() > 0 {
		fail(errors.New("usage: controller-peer --kubeconfig PATH --namespace NS [--workers N] [--metrics-bind-address HOST:PORT]"))
	}

	cfg, err := clientcmd.BuildConfigFromFlags("", *kubeconfig)
	if err != nil {
		fail(err)
	}
	cfg.QPS = -1 // no client-side rate limit
	counts := newCounters()
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return &countingTransport{next: rt, c: counts} })
	kube, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		fail(err)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		fail(err)
	}

	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer cancel()

	dynFactory := dynamicinformer.NewFilteredDynamicSharedInformerFactory(dyn, 0, *namespace, nil)
	kubeFactory := informers.NewSharedInformerFactoryWithOptions(kube, 0,
		informers.WithNamespace(*namespace),
		informers.WithTweakListOptions(func(o *metav1.ListOptions) { o.LabelSelector = labelManagedBy + "=" + managedBy }))
	runInformer := dynFactory.ForResource(taskRunsGVR)
	taskInformer := dynFactory.ForResource(tasksGVR)
	podInformer := kubeFactory.Core().V1().Pods()

	c := &controller{
		dyn:      dyn,
		kube:     kube,
		runs:     runInformer.Lister(),
		tasks:    taskInformer.Lister(),
		pods:     podInformer.Lister(),
		queue:    workqueue.NewTypedRateLimitingQueue(workqueue.DefaultTypedControllerRateLimiter[string]()),
		counters: counts,
	}
	if _, err := runInformer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueue,
		UpdateFunc: func(_, obj any) { c.enqueue(obj) },
	}); err != nil {
		fail(err)
	}
	if _, err := podInformer.Informer().AddEventHandler(cache.ResourceEventHandlerFuncs{
		AddFunc:    c.enqueueOwner,
		UpdateFunc: func(_, obj any) { c.enqueueOwner(obj) },
		DeleteFunc: c.enqueueOwner,
	}); err != nil {
		fail(err)
	}

	ln, err := net.Listen("tcp", *metricsAddr)
	if err != nil {
		fail(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/metrics", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("content-type", "text/plain; version=0.0.4")
		_, _ = w.Write([]byte(counts.prometheus()))
	})
	go func() { _ = http.Serve(ln, mux) }()

	dynFactory.Start(ctx.Done())
	kubeFactory.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), runInformer.Informer().HasSynced, taskInformer.Informer().HasSynced,
		podInformer.Informer().HasSynced) {
		fail(errors.New("caches did not sync"))
	}
	var wg sync.WaitGroup
	for i := 0; i < *workers; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wait.UntilWithContext(ctx, c.worker, time.Second)
		}()
	}
	ready, _ := json.Marshal(map[string]any{"ready": true, "metricsPort": ln.Addr().(*net.TCPAddr).Port})
	fmt.Println(string(ready))

	<-ctx.Done()
	c.queue.ShutDown()
	wg.Wait()
	out, _ := json.Marshal(counts.summary())
	fmt.Println(string(out))
}
