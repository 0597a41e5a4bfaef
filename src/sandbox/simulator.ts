// What the sandbox server asks of each platform simulator. The server owns sockets, bodies and the
// state file; a simulator only turns one parsed request into one reply, so a new platform is one
// folder implementing this and one line in server.ts.
import type { IncomingHttpHeaders } from 'node:http';

export interface SimRequest {
  method: string;
  /** The path below the simulator's prefix, without the query string ('/v21.0/123/users'). */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The simulator's own base URL as the client reached it ('http://127.0.0.1:4010/meta'), for paging links. */
  baseUrl: string;
}

/**
 * An answer, or a transport fault the server carries out: `reset` destroys the socket without a word;
 * `hold` keeps the request open without answering for `ms`, then drops it.
 */
export type SimReply =
  | { status: number; body: unknown; headers?: Record<string, string> }
  | { drop: 'reset' }
  | { drop: 'hold'; ms: number };

export interface Simulator {
  handle(request: SimRequest): Promise<SimReply>;
  /** The platform's own error shape for what the server refuses before routing (a body over the cap). */
  transportError(status: number, message: string): SimReply;
  /** Plain JSON of what should survive a restart; restore() takes it back. */
  snapshot(): unknown;
  restore(state: unknown): void;
}
