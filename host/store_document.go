package host

import (
	"context"
	"encoding/json"
	"fmt"
)

// storeFormatVersion is the version of the store document. The Python SDK's
// FileStore writes the same document, so both can share one file.
const storeFormatVersion = 1

// storeDocument is what a file store holds:
//
//	{"version": 1, "entries": {"<key>": "<value>", ...}}
//
// An EncryptedFileStore holds the same document, encrypted.
type storeDocument struct {
	Version int                `json:"version"`
	Entries *map[string]string `json:"entries"`
}

// storeCodec turns the store document into the bytes on disk and back:
// identity for a FileStore, AES-256-GCM for an EncryptedFileStore.
type storeCodec interface {
	encode(ctx context.Context, doc []byte) ([]byte, error)
	decode(ctx context.Context, stored []byte) ([]byte, error)
}

// plainCodec stores the document as it is.
type plainCodec struct{}

func (plainCodec) encode(_ context.Context, doc []byte) ([]byte, error) { return doc, nil }
func (plainCodec) decode(_ context.Context, stored []byte) ([]byte, error) {
	return stored, nil
}

// encodeDocument renders entries as a store document.
func encodeDocument(entries map[string]string) ([]byte, error) {
	b, err := json.MarshalIndent(storeDocument{Version: storeFormatVersion, Entries: &entries}, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// parseDocument reads a store document. Anything else is ErrStoreCorrupt,
// naming the file; the caller then leaves the file as it is.
func parseDocument(path string, doc []byte) (map[string]string, error) {
	var d storeDocument
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, corruptStore(path, err)
	}
	if d.Version > storeFormatVersion {
		return nil, &storeError{kind: ErrStoreCorrupt,
			msg: fmt.Sprintf("deviceflow: the store file %s has format version %d, newer than this deviceflow knows (%d): upgrade deviceflow; the file was left untouched", path, d.Version, storeFormatVersion)}
	}
	if d.Version < 1 || d.Entries == nil {
		return nil, corruptStore(path, fmt.Errorf("no version and entries"))
	}
	if *d.Entries == nil {
		return map[string]string{}, nil
	}
	return *d.Entries, nil
}

func corruptStore(path string, cause error) error {
	return &storeError{kind: ErrStoreCorrupt, cause: cause,
		msg: fmt.Sprintf("deviceflow: the store file %s is not a deviceflow store (%s); it was left untouched: repair or remove it", path, clipCause(cause))}
}
