package koe_test

import (
	"go/build"
	"strings"
	"testing"
)

// TestDomainImportsOnlyStdlib keeps the domain package at the centre: it may
// import the standard library and nothing else, so every adapter can depend
// on it and it depends on none.
func TestDomainImportsOnlyStdlib(t *testing.T) {
	pkg, err := build.ImportDir(".", 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range pkg.Imports {
		first, _, _ := strings.Cut(imp, "/")
		if strings.Contains(first, ".") {
			t.Errorf("package koe imports %q; the domain package may import only the standard library", imp)
		}
	}
}
