package dialogs_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/koehq/koe"
	"github.com/koehq/koe/dialogs/catalog"
)

func mustCatalog(t *testing.T) *catalog.Catalog {
	t.Helper()
	c, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// notKeys are literals shaped like catalogue keys that are something else.
var notKeys = map[string]bool{
	"accident.alert":   true, // a follow-up job kind (accident.JobAlert)
	"case.alert":       true, // follow-up job kinds (voices.Job*)
	"case.relay":       true,
	"case.handoff_end": true,
}

// TestCatalogKeysUsedInCodeExist finds every string literal shaped like a
// catalogue key ("area.name") in the non-test Go files of this package and
// its subpackages and checks both languages define it.
func TestCatalogKeysUsedInCodeExist(t *testing.T) {
	cat := mustCatalog(t)
	fset := token.NewFileSet()
	found := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != "." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil || !catalog.KeyPattern.MatchString(s) || strings.HasSuffix(s, ".txtar") || notKeys[s] {
				return true
			}
			found++
			if strings.HasSuffix(s, "_") { // a prefix completed at run time
				for _, l := range []koe.Lang{koe.Japanese, koe.English} {
					if !slices.ContainsFunc(cat.Keys(l), func(k string) bool { return strings.HasPrefix(k, s) }) {
						t.Errorf("%s: no key starts with %q in the %s catalogue", fset.Position(lit.Pos()), s, l)
					}
				}
				return true
			}
			for _, l := range []koe.Lang{koe.Japanese, koe.English} {
				if !cat.Has(l, s) {
					t.Errorf("%s: key %q is missing from the %s catalogue", fset.Position(lit.Pos()), s, l)
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if found < 20 {
		t.Errorf("found only %d key literals; the scan is broken", found)
	}
}
