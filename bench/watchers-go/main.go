// The watchers of the registry's watch benchmark (bench/registry.ts), in Go.
//
// 1,000 watchers of a job reported at 5,000 lines/s receive 5M lines/s. In
// Node.js, receiving and checking them took about two cores' worth of CPU,
// on a machine of two cores that also runs the replicas under test, so the
// benchmark measured mostly its own watchers. This program does the same
// work in a fraction of the CPU: plain HTTP/2 requests with gRPC's framing
// (golang.org/x/net/http2, h2c, one connection per replica as a gRPC client
// would use), each line's bytes read in place. It is built offline in GOPATH
// mode against Debian's Go packages, like test/go.
//
// Protocol (JSON lines): arguments are `<count> <address>...`. It prints
// {"started":true}; for each {"jobId","lines","authorizations"} read on
// stdin it opens `count` watches spread over the addresses, prints
// {"ready":true} once all answered their headers and {"summary":{...}} once
// all ended. Each line is `<send time> line <n> …`, the send time in ms
// since the epoch (fractional), read by the reporter from the same clock as
// here. Every watcher checks that it gets lines 0, 1, 2, … exactly once and
// in order, each message starting where the previous one ended; the summary
// has the counts, latency percentiles over every line of every watcher, the
// slowest line of each second and any violations. A watch fails unless its
// trailers say grpc-status 0.
package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/net/http2"
)

const watchPath = "/griot.registry.v1.RegistryService/WatchInstallation"

type job struct {
	JobID          string   `json:"jobId"`
	Lines          int      `json:"lines"`
	Authorizations []string `json:"authorizations"`
}

type summary struct {
	Counts         []int     `json:"counts"`
	P50            float64   `json:"p50"`
	P99            float64   `json:"p99"`
	Max            float64   `json:"max"`
	WorstPerSecond []float64 `json:"worstPerSecond"`
	Errors         []string  `json:"errors"`
}

// Latencies in 0.1 ms buckets; the last one is 60 s and more.
const buckets = 600_001

// tally is one watcher's record, merged into the summary at the end; the
// histogram is shared by all watchers of a job (atomic adds).
type tally struct {
	histogram []uint32
	n         int
	max       float64
	worst     []float64
	errors    []string
}

func nowMs() float64 { return float64(time.Now().UnixNano()) / 1e6 }

func varint(buf []byte, at int) (uint64, int) {
	var value uint64
	var shift uint
	for {
		b := buf[at]
		at++
		value |= uint64(b&0x7f) << shift
		if b < 0x80 {
			return value, at
		}
		shift += 7
	}
}

// scanLine reads the send time and the number after "line " of one line.
// Lines sent together share their send time's bytes: those are parsed once,
// and only compared for the lines after (prevTime, prevTimeBytes).
func (w *watcher) scanLine(line []byte) (float64, int) {
	at := bytes.IndexByte(line, ' ')
	if at < 0 {
		at = len(line)
	}
	if !bytes.Equal(line[:at], w.prevTimeBytes) {
		whole, fraction, scale := 0.0, 0.0, 1.0
		i := 0
		for ; i < at && line[i] != '.'; i++ {
			whole = whole*10 + float64(line[i]-'0')
		}
		for i++; i < at; i++ {
			fraction = fraction*10 + float64(line[i]-'0')
			scale *= 10
		}
		w.prevTime = whole + fraction/scale
		w.prevTimeBytes = append(w.prevTimeBytes[:0], line[:at]...)
	}
	at += 6 // " line "
	number := 0
	for at < len(line) && line[at] != ' ' {
		number = number*10 + int(line[at]-'0')
		at++
	}
	return w.prevTime, number
}

// watcher follows one watch: the lines it got so far and what it saw.
type watcher struct {
	index         int
	received      int
	t             *tally
	prevTime      float64
	prevTimeBytes []byte
}

func (w *watcher) fail(format string, args ...interface{}) {
	if len(w.t.errors) < 10 {
		w.t.errors = append(w.t.errors, fmt.Sprintf("watcher %d: ", w.index)+fmt.Sprintf(format, args...))
	}
}

// message reads one WatchInstallationResponse: field 1 first_line, field 2 the lines.
func (w *watcher) message(buf []byte) {
	now := nowMs()
	before := w.received
	firstLine := -1
	for at := 0; at < len(buf); {
		tag, next := varint(buf, at)
		at = next
		switch tag & 7 {
		case 0:
			value, next := varint(buf, at)
			if tag>>3 == 1 {
				firstLine = int(value)
			}
			at = next
		case 2:
			length, next := varint(buf, at)
			end := next + int(length)
			if tag>>3 == 2 {
				sendTime, number := w.scanLine(buf[next:end])
				if number != w.received {
					w.fail("got line %d, expected %d", number, w.received)
				}
				latency := now - sendTime
				bucket := int(latency*10 + 0.5)
				if bucket < 0 {
					bucket = 0
				} else if bucket >= buckets {
					bucket = buckets - 1
				}
				atomic.AddUint32(&w.t.histogram[bucket], 1)
				w.t.n++
				if latency > w.t.max {
					w.t.max = latency
				}
				second := number / 5000
				for len(w.t.worst) <= second {
					w.t.worst = append(w.t.worst, 0)
				}
				if latency > w.t.worst[second] {
					w.t.worst[second] = latency
				}
				w.received++
			}
			at = end
		default:
			w.fail("unexpected wire type %d", tag&7)
			return
		}
	}
	if w.received > before && firstLine != before && !(firstLine == -1 && before == 0) {
		w.fail("message starts at %d, expected %d", firstLine, before)
	}
}

// run reads the response body's gRPC messages until the end and checks the trailers.
func (w *watcher) run(resp *http.Response) error {
	defer resp.Body.Close()
	// Straight from the body into the message buffer: one copy fewer than through a bufio.Reader.
	reader := resp.Body
	header := make([]byte, 5)
	var message []byte
	for {
		if _, err := io.ReadFull(reader, header); err != nil {
			if err == io.EOF {
				break
			}
			return err
		}
		length := int(binary.BigEndian.Uint32(header[1:]))
		if cap(message) < length {
			message = make([]byte, length)
		}
		message = message[:length]
		if _, err := io.ReadFull(reader, message); err != nil {
			return err
		}
		w.message(message)
	}
	status := resp.Trailer.Get("grpc-status")
	if status == "" {
		status = resp.Header.Get("grpc-status")
	}
	if status != "0" {
		return fmt.Errorf("watch ended with grpc-status %q: %s", status, resp.Trailer.Get("grpc-message"))
	}
	return nil
}

func percentile(histogram []uint32, n int, max float64, p float64) float64 {
	if n == 0 {
		return -1
	}
	rank := int(p / 100 * float64(n))
	if rank > n-1 {
		rank = n - 1
	}
	seen := 0
	for bucket, count := range histogram {
		seen += int(count)
		if seen > rank {
			return float64(bucket) / 10
		}
	}
	return max
}

func watchJob(clients []*http.Client, addresses []string, j job, count int, out *json.Encoder, outMu *sync.Mutex) (summary, error) {
	request := encodeRequest(j.JobID)
	watchers := make([]*watcher, count)
	histogram := make([]uint32, buckets)
	responses := make([]*http.Response, count)
	errs := make(chan error, count)
	var opened sync.WaitGroup
	for i := 0; i < count; i++ {
		watchers[i] = &watcher{index: i, t: &tally{histogram: histogram}}
		opened.Add(1)
		go func(i int) {
			defer opened.Done()
			replica := i % len(clients)
			req, _ := http.NewRequest("POST", "http://"+addresses[replica]+watchPath, bytes.NewReader(request))
			req.Header.Set("content-type", "application/grpc")
			req.Header.Set("te", "trailers")
			req.Header.Set("authorization", j.Authorizations[i])
			resp, err := clients[replica].Do(req)
			if err != nil {
				errs <- err
				return
			}
			responses[i] = resp
		}(i)
	}
	opened.Wait()
	select {
	case err := <-errs:
		return summary{}, err
	default:
	}
	outMu.Lock()
	out.Encode(map[string]bool{"ready": true})
	outMu.Unlock()
	var done sync.WaitGroup
	for i := 0; i < count; i++ {
		done.Add(1)
		go func(i int) {
			defer done.Done()
			if err := watchers[i].run(responses[i]); err != nil {
				errs <- fmt.Errorf("watcher %d: %v", i, err)
			}
		}(i)
	}
	done.Wait()
	select {
	case err := <-errs:
		return summary{}, err
	default:
	}
	s := summary{Counts: make([]int, count), Errors: []string{}, WorstPerSecond: []float64{}}
	n := 0
	for i, w := range watchers {
		s.Counts[i] = w.received
		n += w.t.n
		if w.t.max > s.Max {
			s.Max = w.t.max
		}
		for second, latency := range w.t.worst {
			for len(s.WorstPerSecond) <= second {
				s.WorstPerSecond = append(s.WorstPerSecond, 0)
			}
			if latency > s.WorstPerSecond[second] {
				s.WorstPerSecond[second] = latency
			}
		}
		for _, e := range w.t.errors {
			if len(s.Errors) < 10 {
				s.Errors = append(s.Errors, e)
			}
		}
	}
	s.P50 = percentile(histogram, n, s.Max, 50)
	s.P99 = percentile(histogram, n, s.Max, 99)
	return s, nil
}

// encodeRequest frames a WatchInstallationRequest{job_id, from_line: 0}.
func encodeRequest(jobID string) []byte {
	body := append([]byte{0x0a, byte(len(jobID))}, jobID...)
	framed := make([]byte, 5+len(body))
	binary.BigEndian.PutUint32(framed[1:], uint32(len(body)))
	copy(framed[5:], body)
	return framed
}

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: watchers <count> <address>...")
		os.Exit(2)
	}
	count, err := strconv.Atoi(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "watchers: bad count:", err)
		os.Exit(2)
	}
	addresses := os.Args[2:]
	// BENCH_PROFILE: a CPU profile of the watchers in /tmp/prof/watchers-go.pprof (`go tool pprof -top`).
	if os.Getenv("BENCH_PROFILE") != "" {
		os.MkdirAll("/tmp/prof", 0o755)
		if f, err := os.Create("/tmp/prof/watchers-go.pprof"); err == nil {
			pprof.StartCPUProfile(f)
			// The parent ends this process with SIGTERM: write the profile first.
			stop := make(chan os.Signal, 1)
			signal.Notify(stop, syscall.SIGTERM)
			go func() {
				<-stop
				pprof.StopCPUProfile()
				os.Exit(0)
			}()
		}
	}
	clients := make([]*http.Client, len(addresses))
	for i := range addresses {
		// h2c: HTTP/2 without TLS, one connection per replica.
		transport := &http2.Transport{
			AllowHTTP: true,
			DialTLS: func(network, addr string, _ *tls.Config) (net.Conn, error) {
				return net.Dial(network, addr)
			},
		}
		clients[i] = &http.Client{Transport: transport}
	}
	out := json.NewEncoder(os.Stdout)
	var outMu sync.Mutex
	out.Encode(map[string]bool{"started": true})
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 64*1024*1024), 64*1024*1024)
	for in.Scan() {
		var j job
		if err := json.Unmarshal(in.Bytes(), &j); err != nil {
			fmt.Fprintln(os.Stderr, "watchers: bad job:", err)
			os.Exit(1)
		}
		s, err := watchJob(clients, addresses, j, count, out, &outMu)
		if err != nil {
			fmt.Fprintln(os.Stderr, "watchers failed:", err)
			os.Exit(1)
		}
		outMu.Lock()
		out.Encode(map[string]summary{"summary": s})
		outMu.Unlock()
	}
}
