package dialogs_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"
)

// TestAccidentHappyPathLength keeps the accident report's happy path within
// 12 customer messages, from the menu entry to the reference.
func TestAccidentHappyPathLength(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "transcripts", "accident_happy.txtar"))
	if err != nil {
		t.Fatal(err)
	}
	messages := 0
	for _, f := range txtar.Parse(data).Files {
		if f.Name == "user" {
			messages++
		}
		if f.Name == "effects" && strings.Contains(string(f.Data), "job id=accident.alert:") {
			if messages > 12 {
				t.Errorf("happy path took %d customer messages, want at most 12", messages)
			}
			return
		}
	}
	t.Error("the happy path transcript never files a report")
}
