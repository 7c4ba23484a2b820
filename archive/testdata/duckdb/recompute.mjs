// recompute.mjs DIR: DuckDB, an independent Parquet reader, reads every
// Parquet file archive run and merge wrote under DIR and recomputes the
// merged timeline and persistence in SQL. Prints JSON:
// {"timeline":[[...]], "persistence":[[...]], "counts":{...}}, values as
// strings, in the column order of merged/timeline.csv and the first
// columns of merged/persistence.csv, times as Unix milliseconds.
// The archive tests run it with node and compare with archive merge.
import { DuckDBInstance } from '@duckdb/node-api';

const dir = process.argv[2];
const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
const q = async (sql) => (await con.runAndReadAll(sql)).getRows().map(r => r.map(v => v === null ? '' : String(v)));
const src = (table) => `read_parquet('${dir}/${table}/*/*/*.parquet', hive_partitioning = true)`;

await con.run(`CREATE VIEW summary AS SELECT * FROM ${src('summary')}`);
// Invalid rows count only for units whose summary exists (complete units).
await con.run(`CREATE VIEW invalids AS SELECT i.* FROM ${src('invalids')} i SEMI JOIN summary s ON i.unit = s.unit`);

const timeline = await q(`
SELECT collector, epoch_ms(time), count(*), count(*) FILTER (WHERE partial),
  sum(routes), sum(valid), sum(invalid), sum(not_found), sum(unvalidated), sum(dropped), sum(as0),
  sum(too_specific), sum(wrong_origin), sum("both"), sum(too_short), sum(as_set),
  sum(same_prefix), sum(covered), sum(more_specifics), sum(unreachable), sum(covered_by_other_origin),
  sum(ipv4_routes), sum(ipv4_valid), sum(ipv4_invalid), sum(ipv4_not_found), sum(ipv4_unreachable),
  sum(ipv6_routes), sum(ipv6_valid), sum(ipv6_invalid), sum(ipv6_not_found), sum(ipv6_unreachable)
FROM summary GROUP BY collector, time ORDER BY collector, time`);

const persistence = await q(`
SELECT collector, prefix, origin, epoch_ms(min(time)), epoch_ms(max(time)), count(DISTINCT time)
FROM invalids GROUP BY collector, prefix, origin ORDER BY collector, prefix, origin NULLS FIRST`);

const one = async (sql) => (await q(sql))[0][0];
const counts = {
  summary_files: await one(`SELECT count(DISTINCT filename) FROM read_parquet('${dir}/summary/*/*/*.parquet', filename = true)`),
  invalid_rows: await one(`SELECT count(*) FROM ${src('invalids')}`),
  peer_rows: await one(`SELECT count(*) FROM ${src('peers')}`),
  merged_timeline_rows: await one(`SELECT count(*) FROM read_parquet('${dir}/merged/timeline.parquet')`),
  merged_persistence_rows: await one(`SELECT count(*) FROM read_parquet('${dir}/merged/persistence.parquet')`),
  merged_origins_rows: await one(`SELECT count(*) FROM read_parquet('${dir}/merged/origins.parquet')`),
};
console.log(JSON.stringify({ timeline, persistence, counts }));
