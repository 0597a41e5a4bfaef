// Graph API errors as Meta sends them: the envelope, and the codes and messages clients key on.
// Messages never echo identifier values or tokens, as the real API does not either.

export interface GraphErrorFields {
  type?: string;
  subcode?: number;
  userTitle?: string;
  userMsg?: string;
}

/** Thrown inside a route; the simulator turns it into the error envelope. */
export class GraphFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: number,
    message: string,
    readonly fields: GraphErrorFields = {},
  ) {
    super(message);
  }
}

export function graphErrorBody(failure: GraphFailure, fbtraceId: string): unknown {
  const { type, subcode, userTitle, userMsg } = failure.fields;
  return {
    error: {
      message: failure.message,
      type: type ?? 'OAuthException',
      code: failure.code,
      ...(subcode === undefined ? {} : { error_subcode: subcode }),
      ...(userTitle === undefined ? {} : { error_user_title: userTitle }),
      ...(userMsg === undefined ? {} : { error_user_msg: userMsg }),
      fbtrace_id: fbtraceId,
    },
  };
}

export const invalidToken = (): GraphFailure =>
  new GraphFailure(400, 190, 'Invalid OAuth access token - Cannot parse access token');

export const missingProof = (): GraphFailure =>
  new GraphFailure(400, 100, 'API calls from the server require an appsecret_proof argument', { type: 'GraphMethodException' });

export const invalidProof = (): GraphFailure =>
  new GraphFailure(400, 100, 'Invalid appsecret_proof provided in the API argument', { type: 'GraphMethodException' });

export const cannotUpdate = (audienceId: string): GraphFailure =>
  new GraphFailure(403, 200, `(#200) The current user can not update audience ${audienceId}`);

export const noAccountAccess = (accountId: string): GraphFailure =>
  new GraphFailure(403, 200, `(#200) Ad account owner has NOT granted ads_management or ads_read permission for ${accountId}`);

export const unknownObject = (id: string, method: string): GraphFailure =>
  new GraphFailure(
    400,
    100,
    `Unsupported ${method.toLowerCase()} request. Object with ID '${id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation`,
    { type: 'GraphMethodException', subcode: 33 },
  );

export const unknownPath = (what: string): GraphFailure => new GraphFailure(400, 2500, `Unknown path components: ${what}`);

export const invalidParam = (message: string): GraphFailure =>
  new GraphFailure(400, 100, `(#100) ${message}`, { type: 'OAuthException' });

export const tooManyRows = (): GraphFailure =>
  new GraphFailure(400, 105, '(#105) The number of parameters exceeded the maximum for this operation');

export const throttled = (): GraphFailure =>
  new GraphFailure(400, 80003, 'There have been too many calls to this ad-account. Wait a bit and try again.', {
    userTitle: 'Too many calls',
    userMsg: 'There have been too many calls to this ad-account. Wait a bit and try again.',
  });

export const unavailable = (): GraphFailure =>
  new GraphFailure(500, 2, 'Service temporarily unavailable', { type: 'OAuthException' });
