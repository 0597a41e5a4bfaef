// Every secret value read from the environment is registered here, so any text that leaves the
// process (logs, error messages, --json output, audit rows) can be scrubbed of it as a last line of
// defence. The first line is never putting secrets into messages at all.
const secrets = new Set<string>();

export function registerSecret(value: string | undefined): void {
  // Very short values would scrub ordinary words; real tokens are long.
  if (value && value.length >= 6) secrets.add(value);
}

export function redact(text: string): string {
  let out = text;
  for (const secret of secrets) {
    if (out.includes(secret)) out = out.split(secret).join('[redacted]');
  }
  // Tokens that slipped into URLs as query parameters (access_token=..., key=...).
  return out.replace(/([?&](?:access_token|appsecret_proof|key|token)=)[^&\s"']+/gi, '$1[redacted]');
}
