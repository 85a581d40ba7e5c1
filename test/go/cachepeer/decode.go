package main

import (
	"encoding/gob"
	"io"
	"net/rpc"
	"os"
	"reflect"
)

// decoded is one net/rpc message: its header and its body (nil for an error reply, whose body Go
// discards).
type decoded struct {
	Method string `json:"method"`
	Seq    uint64 `json:"seq"`
	Error  string `json:"error,omitempty"`
	Body   any    `json:"body"`
}

type getBody struct {
	ID     string  `json:"id"`
	Config *Config `json:"config"`
}

type storeBody struct {
	ID         string          `json:"id"`
	Credential *credentialJSON `json:"credential"`
}

// decode reads a stream written by a net/rpc client (requests) or server (responses) from stdin, as
// Go's gob codecs read it, and prints each message; a message Go refuses ends it with its error.
func decode(kind string) {
	dec := gob.NewDecoder(os.Stdin)
	for {
		var line decoded
		var err error
		switch kind {
		case "requests":
			line, err = decodeRequest(dec)
		case "responses":
			line, err = decodeResponse(dec)
		default:
			fail("decode requests|responses")
		}
		if err == io.EOF {
			return
		}
		if err != nil {
			printJSON(map[string]string{"refused": err.Error()})
			os.Exit(1)
		}
		printJSON(line)
	}
}

func decodeRequest(dec *gob.Decoder) (decoded, error) {
	var h rpc.Request
	if err := dec.Decode(&h); err != nil {
		return decoded{}, err
	}
	line := decoded{Method: h.ServiceMethod, Seq: h.Seq}
	switch h.ServiceMethod {
	case "Service.GetCredential":
		var b GetCredentialRequest
		if err := dec.Decode(&b); err != nil {
			return line, err
		}
		line.Body = getBody{b.ID, b.Config}
	case "Service.StoreCredential":
		var b StoreCredentialRequest
		if err := dec.Decode(&b); err != nil {
			return line, err
		}
		line.Body = storeBody{b.ID, asJSON(b.Credential)}
	default:
		if err := dec.DecodeValue(reflect.Value{}); err != nil { // discarded, as net/rpc does
			return line, err
		}
	}
	return line, nil
}

func decodeResponse(dec *gob.Decoder) (decoded, error) {
	var h rpc.Response
	if err := dec.Decode(&h); err != nil {
		return decoded{}, err
	}
	line := decoded{Method: h.ServiceMethod, Seq: h.Seq, Error: h.Error}
	if h.Error != "" {
		return line, dec.DecodeValue(reflect.Value{}) // discarded, as net/rpc does
	}
	var c Credential
	if err := dec.Decode(&c); err != nil {
		return line, err
	}
	line.Body = asJSON(&c)
	return line, nil
}
