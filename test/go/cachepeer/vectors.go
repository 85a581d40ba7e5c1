package main

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/gob"
	"encoding/hex"
	"io"
	"net/rpc"
	"runtime"
	"strings"
)

// The vectors: the exact bytes Go's net/rpc client writes for a sequence of gitsign's calls on one
// connection (type definitions once, then values), and the exact bytes Go's net/rpc server writes
// back, served one request at a time so the order is fixed. Values are chosen to reach every
// encoding the cache uses: multi-byte lengths, a negative int, a uint, both bools, omitted zero
// fields, an error reply.

const vectorID = "build-host@/home/dev/src/project"

func pem(kind string, n int, seed byte) []byte {
	raw := make([]byte, n)
	for i := range raw {
		raw[i] = seed + byte(i*7)
	}
	text := base64.StdEncoding.EncodeToString(raw)
	var b strings.Builder
	b.WriteString("-----BEGIN " + kind + "-----\n")
	for len(text) > 64 {
		b.WriteString(text[:64] + "\n")
		text = text[64:]
	}
	b.WriteString(text + "\n-----END " + kind + "-----\n")
	return []byte(b.String())
}

var vectorCredential = Credential{
	PrivateKey: pem("PRIVATE KEY", 138, 1),
	Cert:       pem("CERTIFICATE", 700, 2),
	Chain:      append(pem("CERTIFICATE", 500, 3), pem("CERTIFICATE", 480, 4)...),
}

// No chain: an empty []byte is a zero value, left out of the encoding.
var vectorLoginCredential = Credential{PrivateKey: pem("PRIVATE KEY", 138, 5), Cert: pem("CERTIFICATE", 690, 6)}

var vectorConfig = Config{
	Fulcio:           "https://fulcio.sigstore.dev",
	FulcioRoot:       "/etc/sigstore/" + strings.Repeat("fulcio-root-", 12) + ".pem",
	Rekor:            "https://rekor.sigstore.dev",
	RekorMode:        "offline",
	EnableSigstoreGo: true,
	RekorVersion:     2,
	ClientID:         "sigstore",
	RedirectURL:      "http://localhost:48123/auth/callback",
	Issuer:           "https://oauth2.sigstore.dev/auth",
	ConnectorID:      "https://github.com/login/oauth",
	TokenProvider:    "interactive",
	CommitterName:    "Dev Eloper",
	CommitterEmail:   "dev@example.com",
	MatchCommitter:   true,
	Autoclose:        false,
	AutocloseTimeout: -3,
	URLOpener:        "firefox --new-tab {{.URL}}",
}

// recorder is a connection that keeps what is written and never has anything to read.
type recorder struct {
	bytes.Buffer
	never chan struct{}
}

func (r *recorder) Read([]byte) (int, error) { <-r.never; return 0, io.EOF }
func (r *recorder) Close() error             { return nil }

// serverCodec is net/rpc's gob server codec (gobServerCodec is not exported), for ServeRequest.
type serverCodec struct {
	dec *gob.Decoder
	enc *gob.Encoder
	buf *bufio.Writer
}

func (c *serverCodec) ReadRequestHeader(r *rpc.Request) error { return c.dec.Decode(r) }
func (c *serverCodec) ReadRequestBody(body any) error         { return c.dec.Decode(body) }
func (c *serverCodec) Close() error                           { return nil }
func (c *serverCodec) WriteResponse(r *rpc.Response, body any) error {
	if err := c.enc.Encode(r); err != nil {
		return err
	}
	if err := c.enc.Encode(body); err != nil {
		return err
	}
	return c.buf.Flush()
}

type vectorMessage struct {
	decoded
	End int `json:"end"`
}

type vectorStream struct {
	Stream   string          `json:"stream"`
	Messages []vectorMessage `json:"messages"`
}

func vectors() {
	calls := []struct {
		method string
		args   any
	}{
		{"Service.GetCredential", GetCredentialRequest{ID: vectorID}},
		{"Service.GetCredential", GetCredentialRequest{ID: vectorID, Config: &vectorConfig}},
		{"Service.StoreCredential", StoreCredentialRequest{ID: vectorID, Credential: &vectorCredential}},
		{"Service.GetCredential", GetCredentialRequest{ID: vectorID}},
		{"Service.Nope", GetCredentialRequest{ID: vectorID}},
	}
	conn := &recorder{never: make(chan struct{})}
	client := rpc.NewClient(conn)
	var requests vectorStream
	for _, c := range calls {
		client.Go(c.method, c.args, new(Credential), nil)
		requests.Messages = append(requests.Messages, vectorMessage{End: conn.Len()})
	}
	sent := conn.Bytes()
	requests.Stream = hex.EncodeToString(sent)
	// What each call says, as Go's server reads it.
	reqDec := gob.NewDecoder(bytes.NewReader(sent))
	for i := range requests.Messages {
		line, err := decodeRequest(reqDec)
		if err != nil {
			fail(err.Error())
		}
		requests.Messages[i].decoded = line
	}

	srv := rpc.NewServer()
	service := newService(func(event) {})
	service.login = func(*Config) *Credential { return &vectorLoginCredential }
	if err := srv.Register(service); err != nil {
		fail(err.Error())
	}
	var out bytes.Buffer
	buf := bufio.NewWriter(&out)
	codec := &serverCodec{dec: gob.NewDecoder(bytes.NewReader(sent)), enc: gob.NewEncoder(buf), buf: buf}
	var responses vectorStream
	for range calls {
		_ = srv.ServeRequest(codec)
		responses.Messages = append(responses.Messages, vectorMessage{End: out.Len()})
	}
	responses.Stream = hex.EncodeToString(out.Bytes())
	// What each response says, as Go's client reads it.
	respDec := gob.NewDecoder(bytes.NewReader(out.Bytes()))
	for i := range responses.Messages {
		line, err := decodeResponse(respDec)
		if err != nil {
			fail(err.Error())
		}
		responses.Messages[i].decoded = line
	}
	printJSON(map[string]any{
		"_comment":        "Written by test/go/cachepeer (vectors) with Go's net/rpc and encoding/gob; do not edit: regenerate with `go run . vectors` in test/go/cachepeer.",
		"go":              runtime.Version(),
		"id":              vectorID,
		"config":          vectorConfig,
		"credential":      asJSON(&vectorCredential),
		"loginCredential": asJSON(&vectorLoginCredential),
		"requests":        requests,
		"responses":       responses,
	})
}
