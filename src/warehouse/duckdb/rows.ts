// A query's rows as objects, as the binding's getRowObjectsJS gives them, except for BLOBs. The
// binding's getItem copies a blob out of DuckDB's memory and then copies that copy again into a
// Buffer; getItemBytes stops after the first. Encoded batches are megabytes of BLOB each
// (sql/outcome.ts encodedBatchesSql), and the second copy, in fresh pages, and its garbage took
// about a fifth of delivery's main thread (bench/).
import { DuckDBBlobVector, JSDuckDBValueConverter, type DuckDBResult } from '@duckdb/node-api';

/** Blobs up to this size are a view into the chunk's own memory (getItemBytes): those are copied. */
const INLINE_BLOB_BYTES = 12;

export async function readRowObjects(result: DuckDBResult): Promise<Record<string, unknown>[]> {
  const names = result.deduplicatedColumnNames();
  const rows: Record<string, unknown>[] = [];
  for (let chunk = await result.fetchChunk(); chunk && chunk.rowCount > 0; chunk = await result.fetchChunk()) {
    const vectors = names.map((_, i) => chunk!.getColumnVector(i));
    for (let r = 0; r < chunk.rowCount; r++) {
      const row: Record<string, unknown> = {};
      for (let c = 0; c < names.length; c++) {
        const vector = vectors[c]!;
        if (vector instanceof DuckDBBlobVector) {
          const bytes = vector.getItemBytes(r);
          row[names[c]!] = bytes === null ? null : bytes.byteLength <= INLINE_BLOB_BYTES ? Buffer.from(bytes) : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        } else {
          row[names[c]!] = JSDuckDBValueConverter(vector.getItem(r), vector.type, JSDuckDBValueConverter);
        }
      }
      rows.push(row);
    }
  }
  return rows;
}
