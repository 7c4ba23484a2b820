// Package study is the input side of a study: everything analyze,
// snapshot, lookup, vrps diff and diff read before a verdict is given. It
// loads and merges VRP files, applies SLURM (RFC 8416) and counts what was
// loaded; reads route files, replayed in the order given, and states what a
// damaged file lost; and records where every input came from (Source), once,
// for the snapshot's staleness check and the history's run record alike.
//
// It sits above classify and reports (it builds the analysis and the report
// metadata) and below snapshot, history and the commands, which take its
// results. It writes nothing but warnings: the reports are the reports
// package's.
package study
