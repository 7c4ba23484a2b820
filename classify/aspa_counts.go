package classify

// SetCounts sets route id's path counts by rov.ASPAState, for a source that
// keeps the verdicts' counts itself (the live table, which verifies each
// path as it comes and keeps no path's result) and asks AnalyzeASPA the
// same questions a batch tally does. It keeps no path (Kept is unchanged).
func (t *ASPATally) SetCounts(route int, c [4]uint32) {
	for route >= len(t.counts) {
		t.counts = append(t.counts, [4]uint32{})
	}
	t.counts[route] = c
}
