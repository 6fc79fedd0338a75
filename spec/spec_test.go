package spec

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

func TestNames(t *testing.T) {
	want := []string{"obie-3.1.yaml", "obie-3.2.yaml", "obie-3.3.yaml", "revolut.yaml"}
	if got := Names(); !slices.Equal(got, want) {
		t.Fatalf("Names() = %v, want %v", got, want)
	}
}

func TestDocument(t *testing.T) {
	for _, name := range Names() {
		data, err := Document(name)
		if err != nil {
			t.Fatalf("Document(%q): %v", name, err)
		}
		if !bytes.HasPrefix(data, []byte("openapi: 3.0.3\n")) {
			t.Errorf("Document(%q) does not start with the OpenAPI 3.0.3 marker", name)
		}
		if !bytes.Contains(data, []byte("operationId: registerClient")) {
			t.Errorf("Document(%q) lacks operationId registerClient", name)
		}
		// The caller owns the returned bytes.
		data[0] = 'X'
		again, _ := Document(name)
		if again[0] != 'o' {
			t.Errorf("Document(%q) returned shared bytes", name)
		}
	}
}

func TestDocumentUnknown(t *testing.T) {
	for _, name := range []string{"", "nope.yaml", "../spec/revolut.yaml", "./revolut.yaml", "spec.go", "REVOLUT.yaml"} {
		_, err := Document(name)
		if err == nil {
			t.Errorf("Document(%q) succeeded, want an error", name)
			continue
		}
		for _, known := range Names() {
			if !strings.Contains(err.Error(), known) {
				t.Errorf("Document(%q) error %q does not name %q", name, err, known)
			}
		}
	}
}
