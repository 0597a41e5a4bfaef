/** The access token every simulator accepts by default; sandbox targets use it when a token's env var is unset. */
export const SANDBOX_TOKEN = 'sandbox-token';
