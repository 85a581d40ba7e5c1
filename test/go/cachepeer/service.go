package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/rpc"
	"os"
	"sync"
	"time"
)

// Service answers as Go gitsign's internal/cache/service does: a credential stored under an ID is
// returned for it; a second store under the same ID is refused while the first is kept (go-cache's
// Add); a miss without a Config is "not found". On a miss with a Config Go gitsign logs in; this
// program cannot, so login (when set, for the vectors) stands in, else the miss is an error that
// says the Config arrived.
type Service struct {
	mu     sync.Mutex
	store  map[string]*Credential
	login  func(*Config) *Credential
	events func(event)
}

type event struct {
	Event  string  `json:"event"`
	ID     string  `json:"id,omitempty"`
	Config *Config `json:"config,omitempty"`
	Socket string  `json:"socket,omitempty"`
}

func newService(events func(event)) *Service {
	return &Service{store: map[string]*Credential{}, events: events}
}

func (s *Service) StoreCredential(req StoreCredentialRequest, resp *Credential) error {
	s.events(event{Event: "store", ID: req.ID})
	if req.Credential == nil {
		return fmt.Errorf("no credential for %q", req.ID)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.store[req.ID]; ok {
		return fmt.Errorf("Item %s already exists", req.ID)
	}
	s.store[req.ID] = req.Credential
	*resp = *req.Credential
	return nil
}

func (s *Service) GetCredential(req GetCredentialRequest, resp *Credential) error {
	s.events(event{Event: "get", ID: req.ID, Config: req.Config})
	s.mu.Lock()
	cred, ok := s.store[req.ID]
	s.mu.Unlock()
	if ok {
		*resp = *cred
		return nil
	}
	if req.Config == nil {
		return fmt.Errorf("%q not found", req.ID)
	}
	if s.login == nil {
		return fmt.Errorf("cachepeer cannot log in (the Config for %s arrived)", req.Config.Fulcio)
	}
	*resp = *s.login(req.Config)
	return nil
}

// serve is the daemon: it listens on path (mode 0700, as gitsign's daemon sets it) and serves each
// connection with net/rpc until the peer closes it or deadline passes.
func serve(path string) {
	var mu sync.Mutex
	out := json.NewEncoder(os.Stdout)
	events := func(e event) {
		mu.Lock()
		defer mu.Unlock()
		_ = out.Encode(e)
	}
	srv := rpc.NewServer()
	if err := srv.Register(newService(events)); err != nil {
		fail(err.Error())
	}
	l, err := net.Listen("unix", path)
	if err != nil {
		fail(err.Error())
	}
	if err := os.Chmod(path, 0700); err != nil {
		fail(err.Error())
	}
	events(event{Event: "listening", Socket: path})
	for {
		conn, err := l.Accept()
		if err != nil {
			fail(err.Error())
		}
		_ = conn.SetDeadline(time.Now().Add(deadline))
		go srv.ServeConn(conn)
	}
}
