package history

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/rovimpact/rovimpact/reports"
)

// appendASPA stores the ASPA counts and paths of a run made with analyze
// --aspa (nothing for a run without: its aspa_* columns stay NULL).
func appendASPA(ctx context.Context, tx *sql.Tx, id int64, rep reports.Report) error {
	x := rep.Summary.ASPA
	if x == nil {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `UPDATE runs SET aspa_valid = ?, aspa_unknown = ?, aspa_invalid = ?, aspa_unverified = ?,
		aspa_routes_dropped = ? WHERE id = ?`, x.Valid, x.Unknown, x.Invalid, x.Unverified, x.RoutesDroppedASPA, id); err != nil {
		return fmt.Errorf("run %d: ASPA counts: %w", id, err)
	}
	stmt, err := tx.PrepareContext(ctx, "INSERT INTO aspa_paths (run_id, prefix, origin, peer_as, peer_ip, aspa, reason, row) VALUES (?,?,?,?,?,?,?,?)")
	if err != nil {
		return err
	}
	defer stmt.Close()
	for _, p := range rep.ASPAPaths {
		row, err := json.Marshal(p)
		if err != nil {
			return err
		}
		var origin any
		if p.Origin != nil {
			origin = int64(*p.Origin)
		}
		ip := ""
		if p.PeerIP.IsValid() {
			ip = p.PeerIP.String()
		}
		if _, err := stmt.ExecContext(ctx, id, p.Prefix.String(), origin, int64(p.PeerAS), ip, p.State.String(), p.Reason.String(), string(row)); err != nil {
			return fmt.Errorf("run %d: inserting ASPA path %s: %w", id, p.Prefix, err)
		}
	}
	return nil
}

// aspaPaths reads run id's ASPA-invalid and unverified paths back, in the
// order stored.
func (s *Store) aspaPaths(ctx context.Context, id int64) ([]reports.ASPAPathRow, error) {
	rows, err := s.db.QueryContext(ctx, "SELECT row FROM aspa_paths WHERE run_id = ? ORDER BY rowid", id)
	if err != nil {
		return nil, fmt.Errorf("history %s: run %d: %w", s.path, id, err)
	}
	defer rows.Close()
	out := []reports.ASPAPathRow{}
	for rows.Next() {
		var row string
		if err := rows.Scan(&row); err != nil {
			return nil, err
		}
		var p reports.ASPAPathRow
		if err := json.Unmarshal([]byte(row), &p); err != nil {
			return nil, fmt.Errorf("history %s: run %d: ASPA path %d: %w", s.path, id, len(out), err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}
