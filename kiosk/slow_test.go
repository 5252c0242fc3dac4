package kiosk

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/perch-hq/perch/booking"
)

// A client that does not keep up is disconnected (code 1013, "resume"),
// and Dispatch never waits for it: the other client gets every event.
func TestSlowClientIsCutOffWithoutDelayingOthers(t *testing.T) {
	h := NewHub(nil, nil, nil, HubOptions{})
	server := make(chan *websocket.Conn, 2)
	done := make(chan struct{})
	defer close(done)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		server <- ws
		<-done
	}))
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(srv.URL, "http")
	slowClient, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer slowClient.Close()
	// Take each server side before the next dial: handlers may finish in
	// any order, so two queued sides could be swapped.
	slow := newConn(h, <-server, []string{"floor:F"})
	fastClient, _, err := websocket.DefaultDialer.Dial(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer fastClient.Close()
	fast := newConn(h, <-server, []string{"floor:F"})
	slow.writing = true // its writer is stuck (a client that stopped reading)
	h.register(slow)
	h.register(fast)
	floor := "F"
	events := make([]booking.Event, 3*queueSize)
	received := make(chan int)
	go func() { // the fast client reads everything it is sent
		n := 0
		_ = fastClient.SetReadDeadline(time.Now().Add(10 * time.Second))
		for n < len(events) {
			if _, _, err := fastClient.ReadMessage(); err != nil {
				t.Log("fast client:", err)
				break
			}
			n++
		}
		received <- n
	}()
	for i := range events {
		events[i] = booking.Event{Seq: int64(i + 1), Kind: booking.EventCreated, FloorID: &floor, Payload: "{}"}
		h.Dispatch(events[i : i+1]) // one commit at a time, as the feed delivers them
		for busy := true; busy; {   // the fast client's writer keeps up between commits
			fast.mu.Lock()
			busy = fast.writing
			fast.mu.Unlock()
			if busy {
				time.Sleep(time.Millisecond)
			}
		}
	}
	select {
	case <-slow.closed:
	case <-time.After(5 * time.Second):
		t.Fatal("the slow client was not disconnected")
	}
	if n := <-received; n != len(events) {
		t.Fatalf("the other client got %d of %d events", n, len(events))
	}
	if h.Connections() != 1 {
		t.Fatalf("%d connections registered, want only the fast one", h.Connections())
	}
	_, _, err = slowClient.ReadMessage()
	if !websocket.IsCloseError(err, websocket.CloseTryAgainLater) {
		t.Fatalf("the slow client saw %v, want close 1013", err)
	}
}
