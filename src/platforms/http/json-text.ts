// JSON text as a string or as its UTF-8 bytes. A payload the warehouse wrote comes as bytes where
// the driver hands them over outside the JavaScript heap (DuckDB), and reaches the request body
// without ever becoming a string (runner/encoded-batches.ts).

export type JsonText = string | Uint8Array;

/** JSON text as a string, to parse it. */
export function jsonTextString(text: JsonText): string {
  return typeof text === 'string' ? text : Buffer.from(text.buffer, text.byteOffset, text.byteLength).toString('utf8');
}
