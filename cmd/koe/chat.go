package main

import (
	"context"
	"fmt"
	"log/slog"
	"os/user"

	"github.com/koehq/koe"
	"github.com/koehq/koe/bot/console"
	"github.com/koehq/koe/dialogs/catalog"
	"github.com/koehq/koe/internal/sla"
)

func runChat(ctx context.Context, args []string, e env) error {
	fs := newFlagSet("chat", "chat [-user NAME] [-lang ja|en] [-store sqlite:PATH|redis://…|redis+cluster://…]", e)
	name := fs.String("user", defaultChatUser(), "who you are in the conversation (console:NAME)")
	lang := fs.String("lang", "", "language of the bot's texts (overrides KOE_LANG)")
	store := fs.String("store", "", "store (overrides KOE_STORE)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig(e.getenv)
	if err != nil {
		return err
	}
	if *store != "" {
		cfg.Store = *store
	}
	if *lang != "" {
		l, ok := koe.ParseLang(*lang)
		if !ok {
			return fmt.Errorf("-lang: want ja or en")
		}
		cfg.Lang = l
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	cfg.LogLevel = max(cfg.LogLevel, slog.LevelError) // the terminal is for the conversation; errors only
	log := newLogger(cfg, e.stderr)
	st, err := openStore(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer st.Close()

	cat, err := catalog.Default()
	if err != nil {
		return err
	}
	chat := console.NewChat(koe.NewUserID(koe.ChannelConsole, *name), e.stdout)
	// Reports and cases filed here are alerted by a `koe serve` on the same store.
	engine, err := newEngine(cfg, engineDeps{
		store: st, queue: st, catalog: cat, log: log,
		senders: map[koe.Channel]koe.Sender{koe.ChannelConsole: chat},
		due:     sla.DueTimes(cfg.Calendar, nil),
	})
	if err != nil {
		return err
	}
	return chat.Run(ctx, e.stdin, engine)
}

func defaultChatUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	return "local"
}
