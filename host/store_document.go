package host

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
)

// entryFormatVersion is the version of an entry file's document (layout
// v2). The Python SDK's FileStore writes the same files.
const entryFormatVersion = 2

// v1FormatVersion is the version of the single-file store (layout v1),
// which the stores only read, to migrate it.
const v1FormatVersion = 1

// entryDocument is what one entry file holds (for an EncryptedFileStore,
// sealed):
//
//	{"version":2,"key":"<key>","value":"<value>"}
type entryDocument struct {
	Version int     `json:"version"`
	Key     *string `json:"key"`
	Value   *string `json:"value"`
}

// v1Document is what a layout v1 store file holds:
//
//	{"version": 1, "entries": {"<key>": "<value>", ...}}
type v1Document struct {
	Version int                `json:"version"`
	Entries *map[string]string `json:"entries"`
}

// storeCodec turns a document into the bytes on disk and back: identity
// for a FileStore, AES-256-GCM for an EncryptedFileStore. where is the file
// the bytes come from, for messages.
type storeCodec interface {
	encode(ctx context.Context, doc []byte) ([]byte, error)
	decode(ctx context.Context, where string, stored []byte) ([]byte, error)
}

// plainCodec stores the document as it is.
type plainCodec struct{}

func (plainCodec) encode(_ context.Context, doc []byte) ([]byte, error) { return doc, nil }
func (plainCodec) decode(_ context.Context, _ string, stored []byte) ([]byte, error) {
	return stored, nil
}

// encodeEntry renders one entry's document, compact, without escaping
// HTML characters (as the Python SDK writes it).
func encodeEntry(key, value string) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(entryDocument{Version: entryFormatVersion, Key: &key, Value: &value}); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

// parseEntry reads an entry file's document. Anything else is
// ErrStoreCorrupt, naming the file; the caller then leaves the file as it
// is.
func parseEntry(path string, doc []byte) (key, value string, err error) {
	var d entryDocument
	if err := json.Unmarshal(doc, &d); err != nil {
		return "", "", corruptEntry(path, err)
	}
	if d.Version > entryFormatVersion {
		return "", "", &storeError{kind: ErrStoreCorrupt,
			msg: fmt.Sprintf("deviceflow: the store entry %s has format version %d, newer than this deviceflow knows (%d): upgrade deviceflow; the file was left untouched", path, d.Version, entryFormatVersion)}
	}
	if d.Version != entryFormatVersion || d.Key == nil || d.Value == nil {
		return "", "", corruptEntry(path, fmt.Errorf("not version %d with a key and a value", entryFormatVersion))
	}
	return *d.Key, *d.Value, nil
}

// parseV1Document reads a layout v1 store document. Anything else is
// ErrStoreCorrupt, naming the file; the caller then leaves the file as it
// is.
func parseV1Document(path string, doc []byte) (map[string]string, error) {
	var d v1Document
	if err := json.Unmarshal(doc, &d); err != nil {
		return nil, corruptStore(path, err)
	}
	if d.Version > v1FormatVersion {
		return nil, &storeError{kind: ErrStoreCorrupt,
			msg: fmt.Sprintf("deviceflow: the store file %s has format version %d, which a single-file store never has; the file was left untouched: repair or remove it", path, d.Version)}
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

func corruptEntry(path string, cause error) error {
	return &storeError{kind: ErrStoreCorrupt, cause: cause,
		msg: fmt.Sprintf("deviceflow: the store entry %s is not a deviceflow store entry (%s); it was left untouched: repair or remove it", path, clipCause(cause))}
}
