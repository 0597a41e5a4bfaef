// JSON text as a string or as its UTF-8 bytes. A payload the warehouse wrote comes as bytes where
// the driver hands them over outside the JavaScript heap (DuckDB), and reaches the request body
// without ever becoming a string (runner/encoded-batches.ts).

export type JsonText = string | Uint8Array;

/** Pieces of JSON text as one: a string when every piece is one, else their bytes in one buffer. */
export function joinJson(pieces: JsonText[]): JsonText {
  if (pieces.every((piece) => typeof piece === 'string')) return pieces.join('');
  return Buffer.concat(pieces.map((piece) => (typeof piece === 'string' ? Buffer.from(piece, 'utf8') : piece)));
}

/** JSON text as a string, to parse it. */
export function jsonTextString(text: JsonText): string {
  return typeof text === 'string' ? text : Buffer.from(text.buffer, text.byteOffset, text.byteLength).toString('utf8');
}
