// Package history keeps every nightly analysis in an append-only SQLite
// database, so an operator can ask what changed between runs and how long
// each invalid route has lasted (long-lived ones are misconfigurations,
// short-lived ones may be hijacks).
//
// The database is embedded (modernc.org/sqlite, pure Go, no cgo). Each run
// is appended in one IMMEDIATE transaction, so concurrent writers serialise
// on SQLite's lock and a run interrupted half-way (kill -9, power loss)
// leaves nothing behind: readers only ever see whole runs. The schema is
// versioned with PRAGMA user_version and migrated forward on Open.
package history

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/rovimpact/rovimpact/reports"
	"github.com/rovimpact/rovimpact/study"
)

// SchemaVersion is the schema this code writes; Open migrates older files
// up to it and refuses newer ones.
const SchemaVersion = 3

// migrations[i] takes a database from user_version i to i+1. Never edit a
// shipped step: add one.
var migrations = []string{
	// v1: runs with their summary, and every invalid route row.
	`CREATE TABLE runs (
		id          INTEGER PRIMARY KEY,
		run_at      INTEGER NOT NULL, -- unix seconds, UTC
		run_date    TEXT    NOT NULL, -- YYYY-MM-DD, UTC
		routes      INTEGER NOT NULL,
		valid       INTEGER NOT NULL,
		invalid     INTEGER NOT NULL,
		not_found   INTEGER NOT NULL,
		dropped     INTEGER NOT NULL,
		unreachable INTEGER NOT NULL,
		vrps_loaded INTEGER NOT NULL,
		summary     TEXT    NOT NULL, -- reports.Summary as JSON
		origins     TEXT    NOT NULL  -- []reports.OriginRow as JSON
	);
	CREATE INDEX runs_date ON runs(run_date, run_at);
	CREATE TABLE invalids (
		run_id  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
		prefix  TEXT    NOT NULL,
		origin  INTEGER,          -- NULL: AS_SET (origin NONE)
		class   TEXT    NOT NULL,
		impact  TEXT    NOT NULL, -- '' when not dropped
		dropped INTEGER NOT NULL,
		row     TEXT    NOT NULL  -- reports.Invalid as JSON
	);
	CREATE INDEX invalids_run ON invalids(run_id);`,
	// v2: input files with sizes and hashes, VRP counts per family, and an
	// index for per-route lifetimes.
	`CREATE TABLE inputs (
		run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
		kind   TEXT    NOT NULL CHECK (kind IN ('routes', 'vrps', 'slurm')),
		name   TEXT    NOT NULL,
		size   INTEGER NOT NULL, -- -1: unknown (stdin)
		sha256 TEXT    NOT NULL  -- '' when unknown
	);
	CREATE INDEX inputs_run ON inputs(run_id);
	ALTER TABLE runs ADD COLUMN vrps_ipv4 INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE runs ADD COLUMN vrps_ipv6 INTEGER NOT NULL DEFAULT 0;
	CREATE INDEX invalids_key ON invalids(prefix, origin);`,
	// v3: ASPA path counts of analyze --aspa (NULL: the run did not
	// verify ASPA), and its ASPA-invalid and unverified paths.
	`ALTER TABLE runs ADD COLUMN aspa_valid INTEGER;
	ALTER TABLE runs ADD COLUMN aspa_unknown INTEGER;
	ALTER TABLE runs ADD COLUMN aspa_invalid INTEGER;
	ALTER TABLE runs ADD COLUMN aspa_unverified INTEGER;
	ALTER TABLE runs ADD COLUMN aspa_routes_dropped INTEGER;
	CREATE TABLE aspa_paths (
		run_id  INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
		prefix  TEXT    NOT NULL,
		origin  INTEGER,          -- NULL: AS_SET (origin NONE)
		peer_as INTEGER NOT NULL,
		peer_ip TEXT    NOT NULL, -- '' when unknown
		aspa    TEXT    NOT NULL, -- invalid or unverified
		reason  TEXT    NOT NULL,
		row     TEXT    NOT NULL  -- reports.ASPAPathRow as JSON
	);
	CREATE INDEX aspa_paths_run ON aspa_paths(run_id);`,
}

// Store is an open history database. Safe for concurrent use; other
// processes may append to the same file at the same time.
type Store struct {
	db   *sql.DB
	path string
	// afterRow, when set (tests only), runs after each invalid row is
	// inserted, inside the run's transaction.
	afterRow func(i int)
}

// ErrDamaged is returned by Open for a file that is not an SQLite
// database or fails SQLite's integrity check: appending to it would add a
// run that later readers cannot see, or make the damage worse.
var ErrDamaged = errors.New("damaged history database")

// Open opens (creating if needed) the history database at path, checks it
// with PRAGMA quick_check and migrates it to SchemaVersion. A damaged file
// is refused with ErrDamaged before anything is written to it. The check
// reads every page once, about 20-30 ms per MB of database with the
// pure-Go SQLite (BenchmarkOpen: 0.4-0.7 s for 22 MB, 300 runs of 250
// invalids, against 17 ms to read the latest run back); it skips only the
// index-to-table cross-check of integrity_check.
func Open(ctx context.Context, path string) (*Store, error) {
	return openAt(ctx, path, SchemaVersion)
}

// openAt migrates only up to version: tests build old-schema files with it.
func openAt(ctx context.Context, path string, version int) (*Store, error) {
	if strings.ContainsRune(path, '?') {
		return nil, fmt.Errorf("history %s: a '?' in the file name is not supported", path)
	}
	// busy_timeout makes a writer wait for another process's run instead of
	// failing; _txlock=immediate takes the write lock at BEGIN, so two
	// writers never deadlock upgrading read locks.
	dsn := path + "?_pragma=busy_timeout(60000)&_pragma=foreign_keys(1)&_pragma=synchronous(FULL)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("history %s: %w", path, err)
	}
	s := &Store{db: db, path: path}
	if err := s.check(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.migrate(ctx, version); err != nil {
		db.Close()
		return nil, err
	}
	if err := s.useWAL(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return s, nil
}

// maxCheckProblems bounds how many quick_check findings an error quotes.
const maxCheckProblems = 3

// check runs PRAGMA quick_check and turns any finding (or SQLite's refusal
// to read the file at all) into ErrDamaged, quoting the first findings.
func (s *Store) check(ctx context.Context) error {
	rows, err := s.db.QueryContext(ctx, "PRAGMA quick_check")
	if err != nil {
		return s.damaged(err.Error())
	}
	defer rows.Close()
	var problems []string
	n := 0
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return s.damaged(err.Error())
		}
		// A row may hold several findings, one a line, under a
		// "*** in database main ***" heading.
		for _, p := range strings.Split(line, "\n") {
			if p = strings.TrimSpace(p); p == "ok" || p == "" || strings.HasPrefix(p, "*** ") {
				continue
			}
			if n++; n <= maxCheckProblems {
				problems = append(problems, p)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return s.damaged(err.Error())
	}
	if n == 0 {
		return nil
	}
	msg := strings.Join(problems, "; ")
	if n > maxCheckProblems {
		msg += fmt.Sprintf("; and %d more", n-maxCheckProblems)
	}
	return s.damaged(msg)
}

func (s *Store) damaged(why string) error {
	return fmt.Errorf("history %s: %w (PRAGMA quick_check: %s): nothing was written; restore it from a backup or move it aside to start a new one",
		s.path, ErrDamaged, why)
}

// useWAL switches the file to write-ahead logging, so readers (history,
// diff) go on while a run is written. The mode is stored in the file; the
// switch needs a moment with no other connection, and SQLite answers BUSY
// at once instead of waiting, so it is retried.
func (s *Store) useWAL(ctx context.Context) error {
	deadline := time.Now().Add(time.Minute)
	for {
		var mode string
		err := s.db.QueryRowContext(ctx, "PRAGMA journal_mode=WAL").Scan(&mode)
		if err == nil {
			return nil
		}
		if !strings.Contains(err.Error(), "SQLITE_BUSY") || time.Now().After(deadline) {
			return fmt.Errorf("history %s: enabling WAL: %w", s.path, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

// Version returns the file's schema version.
func (s *Store) Version(ctx context.Context) (int, error) {
	var v int
	err := s.db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v)
	return v, err
}

func (s *Store) migrate(ctx context.Context, target int) error {
	tx, err := s.db.BeginTx(ctx, nil) // IMMEDIATE: one migrator at a time
	if err != nil {
		return fmt.Errorf("history %s: %w", s.path, err)
	}
	defer tx.Rollback()
	var v int
	if err := tx.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return fmt.Errorf("history %s: reading schema version: %w", s.path, err)
	}
	if v > len(migrations) {
		return fmt.Errorf("history %s: schema version %d is newer than this rovimpact (%d): upgrade rovimpact", s.path, v, SchemaVersion)
	}
	if v >= target {
		return nil
	}
	for ; v < target; v++ {
		if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
			return fmt.Errorf("history %s: migrating schema %d to %d: %w", s.path, v, v+1, err)
		}
	}
	if _, err := tx.ExecContext(ctx, "PRAGMA user_version = "+strconv.Itoa(target)); err != nil {
		return fmt.Errorf("history %s: %w", s.path, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("history %s: committing migration: %w", s.path, err)
	}
	return nil
}

// Append stores one run: its time, inputs, summary, origins and every
// invalid row, in one transaction. It returns the new run's id.
func (s *Store) Append(ctx context.Context, at time.Time, rep reports.Report, inputs []study.Source) (int64, error) {
	at = at.UTC()
	sum, err := json.Marshal(rep.Summary)
	if err != nil {
		return 0, err
	}
	origins := rep.Origins
	if origins == nil {
		origins = []reports.OriginRow{}
	}
	orig, err := json.Marshal(origins)
	if err != nil {
		return 0, err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("history %s: %w", s.path, err)
	}
	defer tx.Rollback()
	r := rep.Summary
	res, err := tx.ExecContext(ctx, `INSERT INTO runs (run_at, run_date, routes, valid, invalid, not_found, dropped, unreachable,
		vrps_loaded, vrps_ipv4, vrps_ipv6, summary, origins) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		at.Unix(), at.Format(time.DateOnly), r.Routes, r.Valid, r.Invalid, r.NotFound, r.Dropped, r.Impact.Unreachable,
		r.VRPs.Loaded, r.VRPs.IPv4, r.VRPs.IPv6, string(sum), string(orig))
	if err != nil {
		return 0, fmt.Errorf("history %s: inserting run: %w", s.path, err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, err
	}
	if err := appendASPA(ctx, tx, id, rep); err != nil {
		return 0, fmt.Errorf("history %s: %w", s.path, err)
	}
	for _, in := range inputs {
		if _, err := tx.ExecContext(ctx, "INSERT INTO inputs (run_id, kind, name, size, sha256) VALUES (?,?,?,?,?)",
			id, string(in.Role), in.Name, in.Size, in.SHA256); err != nil {
			return 0, fmt.Errorf("history %s: inserting input %s: %w", s.path, in.Name, err)
		}
	}
	stmt, err := tx.PrepareContext(ctx, "INSERT INTO invalids (run_id, prefix, origin, class, impact, dropped, row) VALUES (?,?,?,?,?,?,?)")
	if err != nil {
		return 0, fmt.Errorf("history %s: %w", s.path, err)
	}
	defer stmt.Close()
	for i, inv := range rep.Invalids {
		row, err := json.Marshal(inv)
		if err != nil {
			return 0, err
		}
		var origin any
		if inv.Origin != nil {
			origin = int64(*inv.Origin)
		}
		if _, err := stmt.ExecContext(ctx, id, inv.Prefix.String(), origin, inv.Class.String(), inv.Impact.String(), inv.Dropped, string(row)); err != nil {
			return 0, fmt.Errorf("history %s: inserting invalid %s: %w", s.path, inv.Prefix, err)
		}
		if s.afterRow != nil {
			s.afterRow(i)
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("history %s: committing run: %w", s.path, err)
	}
	return id, nil
}

// RunInfo describes one stored run.
type RunInfo struct {
	ID      int64          `json:"id"`
	At      time.Time      `json:"run_at"`
	Inputs  []study.Source `json:"inputs"` // by size and SHA-256 (study.Hash)
	Summary reports.Summary
}

// Latest returns the last stored run's id, time and summary (not its
// inputs or rows); ErrNoRun when there is none.
func (s *Store) Latest(ctx context.Context) (RunInfo, error) {
	var ri RunInfo
	var at int64
	var sum string
	err := s.db.QueryRowContext(ctx, "SELECT id, run_at, summary FROM runs ORDER BY id DESC LIMIT 1").Scan(&ri.ID, &at, &sum)
	if errors.Is(err, sql.ErrNoRows) {
		return ri, fmt.Errorf("history %s: latest run: %w", s.path, ErrNoRun)
	}
	if err != nil {
		return ri, fmt.Errorf("history %s: %w", s.path, err)
	}
	ri.At = time.Unix(at, 0).UTC()
	if err := json.Unmarshal([]byte(sum), &ri.Summary); err != nil {
		return ri, fmt.Errorf("history %s: run %d: summary: %w", s.path, ri.ID, err)
	}
	return ri, nil
}

// ErrNoRun is returned when a run reference matches no stored run.
var ErrNoRun = errors.New("no such run")

// Resolve turns a run reference into a run id: a number is a run id; a date
// (YYYY-MM-DD, UTC) is the last run of that day; "latest" is the last run
// and "previous" the one before it, which is what a nightly diff wants.
func (s *Store) Resolve(ctx context.Context, ref string) (int64, error) {
	var (
		id  int64
		err error
	)
	switch {
	case ref == "latest":
		err = s.db.QueryRowContext(ctx, "SELECT id FROM runs ORDER BY id DESC LIMIT 1").Scan(&id)
	case ref == "previous":
		err = s.db.QueryRowContext(ctx, "SELECT id FROM runs ORDER BY id DESC LIMIT 1 OFFSET 1").Scan(&id)
	default:
		if n, perr := strconv.ParseInt(ref, 10, 64); perr == nil {
			err = s.db.QueryRowContext(ctx, "SELECT id FROM runs WHERE id = ?", n).Scan(&id)
			break
		}
		d, perr := time.Parse(time.DateOnly, ref)
		if perr != nil {
			return 0, fmt.Errorf("run %q: want a run id, a date (YYYY-MM-DD), latest or previous", ref)
		}
		err = s.db.QueryRowContext(ctx, "SELECT id FROM runs WHERE run_date = ? ORDER BY run_at DESC, id DESC LIMIT 1",
			d.Format(time.DateOnly)).Scan(&id)
	}
	if errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("history %s: run %q: %w", s.path, ref, ErrNoRun)
	}
	if err != nil {
		return 0, fmt.Errorf("history %s: %w", s.path, err)
	}
	return id, nil
}

// Report loads a stored run back as the report analyze printed (peers are
// not stored).
func (s *Store) Report(ctx context.Context, id int64) (reports.Report, RunInfo, error) {
	rep := reports.Report{Invalids: []reports.Invalid{}}
	info := RunInfo{ID: id, Inputs: []study.Source{}}
	var at int64
	var sum, orig string
	err := s.db.QueryRowContext(ctx, "SELECT run_at, summary, origins FROM runs WHERE id = ?", id).Scan(&at, &sum, &orig)
	if errors.Is(err, sql.ErrNoRows) {
		return rep, info, fmt.Errorf("history %s: run %d: %w", s.path, id, ErrNoRun)
	}
	if err != nil {
		return rep, info, fmt.Errorf("history %s: run %d: %w", s.path, id, err)
	}
	info.At = time.Unix(at, 0).UTC()
	if err := json.Unmarshal([]byte(sum), &rep.Summary); err != nil {
		return rep, info, fmt.Errorf("history %s: run %d: summary: %w", s.path, id, err)
	}
	if err := json.Unmarshal([]byte(orig), &rep.Origins); err != nil {
		return rep, info, fmt.Errorf("history %s: run %d: origins: %w", s.path, id, err)
	}
	info.Summary = rep.Summary
	rows, err := s.db.QueryContext(ctx, "SELECT row FROM invalids WHERE run_id = ? ORDER BY rowid", id)
	if err != nil {
		return rep, info, fmt.Errorf("history %s: run %d: %w", s.path, id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var row string
		if err := rows.Scan(&row); err != nil {
			return rep, info, err
		}
		var inv reports.Invalid
		if err := json.Unmarshal([]byte(row), &inv); err != nil {
			return rep, info, fmt.Errorf("history %s: run %d: invalid row %d: %w", s.path, id, len(rep.Invalids), err)
		}
		rep.Invalids = append(rep.Invalids, inv)
	}
	if err := rows.Err(); err != nil {
		return rep, info, err
	}
	if rep.Summary.ASPA != nil {
		if rep.ASPAPaths, err = s.aspaPaths(ctx, id); err != nil {
			return rep, info, err
		}
	}
	info.Inputs, err = s.inputs(ctx, id)
	return rep, info, err
}

func (s *Store) inputs(ctx context.Context, id int64) ([]study.Source, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT kind, name, size, sha256 FROM inputs WHERE run_id = ? ORDER BY rowid", id)
	if err != nil {
		return nil, fmt.Errorf("history %s: run %d inputs: %w", s.path, id, err)
	}
	defer rows.Close()
	out := []study.Source{}
	for rows.Next() {
		var in study.Source
		var role string
		if err := rows.Scan(&role, &in.Name, &in.Size, &in.SHA256); err != nil {
			return nil, err
		}
		in.Role = study.Role(role)
		out = append(out, in)
	}
	return out, rows.Err()
}
