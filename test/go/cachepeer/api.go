package main

// The types Go gitsign's credential cache sends (internal/cache/api and internal/config of
// github.com/sigstore/gitsign), declared with the same names, fields and field types: gob matches
// struct fields by name and checks their types, so this program decodes and encodes what gitsign does.

type Credential struct {
	PrivateKey []byte
	Cert       []byte
	Chain      []byte
}

type StoreCredentialRequest struct {
	ID         string
	Credential *Credential
}

type GetCredentialRequest struct {
	ID     string
	Config *Config
}

// Config is gitsign's config.Config: the exported fields travel, the unexported one does not.
type Config struct {
	Fulcio           string
	FulcioRoot       string
	Rekor            string
	RekorMode        string
	EnableSigstoreGo bool
	RekorVersion     uint32
	ClientID         string
	clientSecretFile string
	RedirectURL      string
	Issuer           string
	ConnectorID      string
	TokenProvider    string
	TimestampURL     string
	TimestampCert    string
	LogPath          string
	CommitterName    string
	CommitterEmail   string
	MatchCommitter   bool
	Autoclose        bool
	AutocloseTimeout int
	URLOpener        string
}
