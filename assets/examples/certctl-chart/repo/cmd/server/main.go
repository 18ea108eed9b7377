package main

import (
	"flag"
	"log"
	"os"
)

func main() {
	migrateOnly := flag.Bool("migrate-only", false, "run schema migrations and seed data, then exit")
	flag.Parse()

	cfg := loadConfig()
	db := openPool(cfg)
	if *migrateOnly {
		mustRun(RunMigrations(db), RunSeed(db))
		os.Exit(0)
	}
	// The Helm hook Job ran the migrations already.
	if os.Getenv("CERTCTL_MIGRATIONS_VIA_HOOK") != "true" {
		mustRun(RunMigrations(db), RunSeed(db))
	}
	log.Fatal(serve(cfg, db))
}
