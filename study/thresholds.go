package study

import "github.com/rovimpact/rovimpact/reports"

// FailOnUnreachable is analyze's --fail-on-unreachable N: a
// *ThresholdError when more than max routes of rep would become
// unreachable; max < 0 never fails.
func FailOnUnreachable(rep reports.Report, max int) error {
	if n := rep.Summary.Impact.Unreachable; max >= 0 && n > max {
		return Thresholdf("%d routes would become unreachable (--fail-on-unreachable %d)", n, max)
	}
	return nil
}
