package archive

// Tally are the counts a unit's summary (SummaryRow) and a timeline row
// (TimelineRow, the sum of a collector's units at one time) share: routes
// by state, by class and impact, covered by another origin, and per
// address family. Embedded, its columns stand where they are listed here
// (parquet-go flattens embedded structs in place), so both tables keep
// their column names and order.
type Tally struct {
	Valid       int64 `parquet:"valid"`
	Invalid     int64 `parquet:"invalid"`
	NotFound    int64 `parquet:"not_found"`
	Unvalidated int64 `parquet:"unvalidated"`
	Dropped     int64 `parquet:"dropped"`
	AS0         int64 `parquet:"as0"`
	Counts
	CoverOtherAS int64 `parquet:"covered_by_other_origin"`

	V4Routes   int64 `parquet:"ipv4_routes"`
	V4Valid    int64 `parquet:"ipv4_valid"`
	V4Invalid  int64 `parquet:"ipv4_invalid"`
	V4NotFound int64 `parquet:"ipv4_not_found"`
	V4Unreach  int64 `parquet:"ipv4_unreachable"`
	V6Routes   int64 `parquet:"ipv6_routes"`
	V6Valid    int64 `parquet:"ipv6_valid"`
	V6Invalid  int64 `parquet:"ipv6_invalid"`
	V6NotFound int64 `parquet:"ipv6_not_found"`
	V6Unreach  int64 `parquet:"ipv6_unreachable"`
}

// add adds u to t, field by field.
func (t *Tally) add(u Tally) {
	t.Valid += u.Valid
	t.Invalid += u.Invalid
	t.NotFound += u.NotFound
	t.Unvalidated += u.Unvalidated
	t.Dropped += u.Dropped
	t.AS0 += u.AS0
	t.Counts.add(u.Counts)
	t.CoverOtherAS += u.CoverOtherAS
	t.V4Routes += u.V4Routes
	t.V4Valid += u.V4Valid
	t.V4Invalid += u.V4Invalid
	t.V4NotFound += u.V4NotFound
	t.V4Unreach += u.V4Unreach
	t.V6Routes += u.V6Routes
	t.V6Valid += u.V6Valid
	t.V6Invalid += u.V6Invalid
	t.V6NotFound += u.V6NotFound
	t.V6Unreach += u.V6Unreach
}

// add adds d to c, field by field.
func (c *Counts) add(d Counts) {
	c.TooSpecific += d.TooSpecific
	c.WrongOrigin += d.WrongOrigin
	c.Both += d.Both
	c.TooShort += d.TooShort
	c.ASSet += d.ASSet
	c.SamePrefix += d.SamePrefix
	c.Covered += d.Covered
	c.MoreSpecifics += d.MoreSpecifics
	c.Unreachable += d.Unreachable
}
