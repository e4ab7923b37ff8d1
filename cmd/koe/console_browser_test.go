package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestWebConsoleInBrowser drives the console page in headless Chromium
// against a real `koe serve` (SQLite, no channel configured): type a
// question, see the FAQ answer, tap the はい quick reply, see the thanks;
// then start an accident report and answer the first card's quick reply.
// It needs Debian's chromium (.ci/run installs it and sets
// KOE_TEST_BROWSER=require so that a missing browser fails there).
func TestWebConsoleInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	bin, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("KOE_TEST_BROWSER") == "require" {
			t.Fatal("chromium not found and KOE_TEST_BROWSER=require")
		}
		t.Skip("chromium not installed (apt-get install chromium)")
	}
	env := testEnv(t, "sqlite:"+filepath.Join(t.TempDir(), "koe.db"), "", "")
	for _, k := range []string{"LINE_CHANNEL_SECRET", "LINE_CHANNEL_ACCESS_TOKEN", "LINE_API_BASE_URL", "LINE_DATA_API_BASE_URL"} {
		delete(env, k)
	}
	cfg, err := loadConfig(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	a := startTestApp(t, cfg)
	base := "http://" + a.Addr().String()

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(bin), chromedp.NoSandbox,
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(480, 900),
	)
	// The browser lives as long as this context: the whole test is bounded.
	bound, cancelBound := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancelBound()
	actx, cancelAlloc := chromedp.NewExecAllocator(bound, opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	// The first run starts the browser (steps below get their own deadline).
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/")); err != nil {
		t.Fatalf("open the console: %v", err)
	}
	tctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	defer cancelTimeout()

	// botSays waits for a bot bubble or card containing text.
	botSays := func(text string) chromedp.Action[chromedp.Void] {
		return chromedp.WaitVisible(chromedp.Search(`//div[contains(@class,"row") and contains(@class,"bot")][contains(., "` + text + `")]`))
	}
	chip := func(label string) chromedp.Search {
		return chromedp.Search(`//button[contains(@class,"chip")][normalize-space(.)="` + label + `"]`)
	}
	pngPath := filepath.Join(t.TempDir(), "photo.png")
	if err := os.WriteFile(pngPath, onePixelPNG, 0o600); err != nil {
		t.Fatal(err)
	}
	input := chromedp.ID("text")
	steps := []struct {
		what string
		do   chromedp.Action[chromedp.Void]
	}{
		{"page ready", chromedp.WaitVisible(input)},
		{"type お問い合わせ and Enter", chromedp.SendKeys(input, "お問い合わせ\r")},
		{"inquiry prompt", botSays("お問い合わせ内容を")},
		{"type the question and Enter", chromedp.SendKeys(input, "保険金はいつ振り込まれますか？\r")},
		{"FAQ answer", botSays("30日以内")},
		{"tap はい", chromedp.Click(chip("はい"))},
		{"thanks", botSays("解決してよかったです")},
		// The customer's own words are shown on the right.
		{"はい shown as said", chromedp.WaitVisible(chromedp.Search(`//div[contains(@class,"me")][normalize-space(.)="はい"]`))},
		// The last turn offers the menu: start an accident report.
		{"tap 事故の連絡", chromedp.Click(chip("事故の連絡"))},
		{"accident dialog", botSays("事故")},
		// A picture chosen in the page's file input is uploaded as an image
		// message (the camera quick replies open the same input).
		{"choose a picture", chromedp.SetUploadFiles(chromedp.ID("file"), []string{pngPath})},
		{"picture shown as sent", chromedp.WaitVisible(chromedp.Search(`//div[contains(@class,"me")][contains(., "photo.png")]`))},
	}
	for _, st := range steps {
		if err := chromedp.Do(tctx, st.do); err != nil {
			dctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			html, _ := chromedp.Run(dctx, chromedp.OuterHTML(chromedp.ID("log")))
			cancel()
			t.Fatalf("%s: %v\nconversation: %s", st.what, err, html)
		}
	}
	if path := os.Getenv("KOE_TEST_SCREENSHOT"); path != "" {
		png, err := chromedp.Run(tctx, chromedp.CaptureScreenshot())
		if err == nil {
			err = os.WriteFile(path, png, 0o644)
		}
		if err != nil {
			t.Errorf("screenshot: %v", err)
		}
	}
	// The upload reached the server: the picture is kept for the dialogs.
	waitUntil(t, "the uploaded picture is kept", func() bool {
		m, _ := filepath.Glob(filepath.Join(cfg.DataDir, "console", "*", "*.png"))
		return len(m) == 1
	})
	if errs, _ := chromedp.Run(tctx, chromedp.Evaluate[int](`document.querySelectorAll(".note.err").length`)); errs != 0 {
		t.Errorf("the page shows %d error notes", errs)
	}
	who, err := chromedp.Run(tctx, chromedp.Text(chromedp.ID("who")))
	if err != nil || !strings.HasPrefix(who, "console:web-") {
		t.Errorf("page shows user %q (%v), want console:web-…", who, err)
	}
}

// onePixelPNG is a 1×1 PNG.
var onePixelPNG = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")
