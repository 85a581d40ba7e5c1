// cachepeer is the Go side of gitsign-ts's credential-cache tests: Go's own net/rpc and
// encoding/gob with gitsign's types (api.go), standard library only. It plays Go gitsign's daemon
// and Go gitsign's client, decodes net/rpc streams, and writes the test vectors.
//
//	cachepeer serve SOCKET                       the daemon; one JSON line per event on stdout
//	cachepeer get SOCKET ID [FULCIO ISSUER]      Service.GetCredential (a Config when FULCIO is given)
//	cachepeer store SOCKET ID KEY CERT CHAIN     Service.StoreCredential of the three files
//	cachepeer session SOCKET ID KEY CERT CHAIN   get, store, get on one connection, as gitsign signs
//	cachepeer decode requests|responses          a net/rpc stream on stdin, one JSON line per message
//	cachepeer vectors                            the test vectors, as JSON
package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/rpc"
	"os"
	"time"
)

// Every client call and every daemon connection ends within this time: a test never hangs on us.
const deadline = 30 * time.Second

func main() {
	if len(os.Args) < 2 {
		fail("usage: cachepeer serve|get|store|session|decode|vectors ...")
	}
	args := os.Args[2:]
	switch os.Args[1] {
	case "serve":
		need(args, 1)
		serve(args[0])
	case "get":
		if len(args) != 2 && len(args) != 4 {
			fail("usage: cachepeer get SOCKET ID [FULCIO ISSUER]")
		}
		var cfg *Config
		if len(args) == 4 {
			cfg = &Config{Fulcio: args[2], Issuer: args[3], ClientID: "sigstore", Autoclose: true, AutocloseTimeout: 6}
		}
		client := dial(args[0])
		printJSON(get(client, args[1], cfg))
	case "store":
		need(args, 5)
		client := dial(args[0])
		printJSON(store(client, args[1], readCredential(args[2:])))
	case "session":
		need(args, 5)
		client := dial(args[0])
		printJSON(get(client, args[1], nil))
		printJSON(store(client, args[1], readCredential(args[2:])))
		printJSON(get(client, args[1], nil))
	case "decode":
		need(args, 1)
		decode(args[0])
	case "vectors":
		vectors()
	default:
		fail("unknown command " + os.Args[1])
	}
}

func need(args []string, n int) {
	if len(args) != n {
		fail(fmt.Sprintf("%s takes %d arguments", os.Args[1], n))
	}
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "cachepeer:", msg)
	os.Exit(2)
}

func printJSON(v any) {
	b, err := json.Marshal(v)
	if err != nil {
		fail(err.Error())
	}
	fmt.Println(string(b))
}

// credentialJSON shows a Credential's bytes as text (they are PEM).
type credentialJSON struct {
	PrivateKey string `json:"privateKey"`
	Cert       string `json:"cert"`
	Chain      string `json:"chain"`
}

func asJSON(c *Credential) *credentialJSON {
	if c == nil {
		return nil
	}
	return &credentialJSON{string(c.PrivateKey), string(c.Cert), string(c.Chain)}
}

type result struct {
	Ok         bool            `json:"ok"`
	Error      string          `json:"error,omitempty"`
	Credential *credentialJSON `json:"credential,omitempty"`
}

func dial(path string) *rpc.Client {
	conn, err := net.DialTimeout("unix", path, deadline)
	if err != nil {
		fail(err.Error())
	}
	_ = conn.SetDeadline(time.Now().Add(deadline))
	return rpc.NewClient(conn)
}

func get(client *rpc.Client, id string, cfg *Config) result {
	resp := new(Credential)
	if err := client.Call("Service.GetCredential", GetCredentialRequest{ID: id, Config: cfg}, resp); err != nil {
		return result{Error: err.Error()}
	}
	return result{Ok: true, Credential: asJSON(resp)}
}

func store(client *rpc.Client, id string, c *Credential) result {
	if err := client.Call("Service.StoreCredential", StoreCredentialRequest{ID: id, Credential: c}, new(Credential)); err != nil {
		return result{Error: err.Error()}
	}
	return result{Ok: true}
}

func readCredential(files []string) *Credential {
	var parts [3][]byte
	for i, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			fail(err.Error())
		}
		parts[i] = b
	}
	return &Credential{PrivateKey: parts[0], Cert: parts[1], Chain: parts[2]}
}
