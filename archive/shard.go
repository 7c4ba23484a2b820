package archive

import (
	"fmt"
	"strconv"
	"strings"
)

// Shard is one part of a manifest's units: Index in [0, Count).
type Shard struct{ Index, Count int }

// All is the whole manifest as one shard.
var All = Shard{0, 1}

func (s Shard) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

// Has reports whether the i-th runnable unit of the manifest belongs to the
// shard. Units are dealt round-robin, so each shard gets units spread over
// the whole time range, not one expensive year.
func (s Shard) Has(i int) bool { return i%s.Count == s.Index }

// ParseShard reads "i/N".
func ParseShard(v string) (Shard, error) {
	a, b, ok := strings.Cut(v, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil {
		return Shard{}, fmt.Errorf("shard %q: want i/N, e.g. 3/8", v)
	}
	return checkShard(i, n)
}

func checkShard(i, n int) (Shard, error) {
	if n < 1 || i < 0 || i >= n {
		return Shard{}, fmt.Errorf("shard %d/%d: want 0 <= i < N", i, n)
	}
	return Shard{i, n}, nil
}

// ShardFromEnv finds the shard of a batch task when --shard was not given:
//
//   - Slurm array task: SLURM_ARRAY_TASK_ID. With shards > 0 (--shards N)
//     the task id is the shard index; without, the shard is the task's
//     place in the array (ID - SLURM_ARRAY_TASK_MIN) of
//     SLURM_ARRAY_TASK_COUNT. Caveat: a task resubmitted alone (sbatch
//     --array=2) is an array of one (COUNT 1) and would run every unit,
//     so batch scripts should always pass --shards N; `scontrol requeue`
//     keeps the original job's variables.
//   - Kubernetes Indexed Job: JOB_COMPLETION_INDEX with shards (--shards
//     N, the Job's completions) required: the index alone does not say N.
//
// Neither: the whole manifest (All), from "local". source names where the
// shard came from, for the log.
func ShardFromEnv(getenv func(string) string, shards int) (s Shard, source string, err error) {
	num := func(name string) (int, error) {
		n, err := strconv.Atoi(getenv(name))
		if err != nil {
			return 0, fmt.Errorf("%s=%q: not a number", name, getenv(name))
		}
		return n, nil
	}
	if getenv("SLURM_ARRAY_TASK_ID") != "" {
		id, err := num("SLURM_ARRAY_TASK_ID")
		if err != nil {
			return Shard{}, "", err
		}
		if shards > 0 {
			s, err := checkShard(id, shards)
			return s, "SLURM_ARRAY_TASK_ID and --shards", err
		}
		lo, err := num("SLURM_ARRAY_TASK_MIN")
		if err != nil {
			return Shard{}, "", err
		}
		hi, err := num("SLURM_ARRAY_TASK_MAX")
		if err != nil {
			return Shard{}, "", err
		}
		n, err := num("SLURM_ARRAY_TASK_COUNT")
		if err != nil {
			return Shard{}, "", err
		}
		if hi-lo+1 != n {
			return Shard{}, "", fmt.Errorf("Slurm array %d-%d has %d tasks (a step or a list?): pass --shards N and use task ids 0..N-1", lo, hi, n)
		}
		s, err := checkShard(id-lo, n)
		return s, "SLURM_ARRAY_TASK_ID/SLURM_ARRAY_TASK_COUNT", err
	}
	if getenv("JOB_COMPLETION_INDEX") != "" {
		if shards <= 0 {
			return Shard{}, "", fmt.Errorf("JOB_COMPLETION_INDEX is set but --shards N is not: the index alone does not say how many shards there are")
		}
		id, err := num("JOB_COMPLETION_INDEX")
		if err != nil {
			return Shard{}, "", err
		}
		s, err := checkShard(id, shards)
		return s, "JOB_COMPLETION_INDEX and --shards", err
	}
	if shards > 1 {
		return Shard{}, "", fmt.Errorf("--shards %d without --shard i/N, SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX", shards)
	}
	return All, "local", nil
}
