// aspa.mjs DIR: DuckDB reads the ASPA columns of the summary and the
// aspa_paths table archive run --aspa wrote under DIR. Prints JSON
// {"summary":[[unit, aspa_valid, aspa_unknown, aspa_invalid, ...]],
// "paths":[[unit, prefix, peer_as, reason, up_customer, up_provider]]},
// values as strings ('' for null), sorted.
import { DuckDBInstance } from '@duckdb/node-api';

const dir = process.argv[2];
const db = await DuckDBInstance.create(':memory:');
const con = await db.connect();
const q = async (sql) => (await con.runAndReadAll(sql)).getRows().map(r => r.map(v => v === null ? '' : String(v)));
const src = (table) => `read_parquet('${dir}/${table}/*/*/*.parquet', hive_partitioning = true)`;

const summary = await q(`SELECT unit, aspa_valid, aspa_unknown, aspa_invalid, aspa_unverified, aspa_routes_dropped, aspa_prefixes_lost
FROM ${src('summary')} ORDER BY unit`);
const paths = await q(`SELECT unit, prefix, peer_as, reason, up_customer, up_provider, len(up_providers)
FROM ${src('aspa_paths')} ORDER BY unit, prefix, peer_as`);
console.log(JSON.stringify({ summary, paths }));
