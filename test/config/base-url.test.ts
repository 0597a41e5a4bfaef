import { describe, expect, it } from 'vitest';
import { baseUrlProblem } from '../../src/config/base-url.js';

describe('baseUrlProblem', () => {
  it('accepts https anywhere and plain http to loopback', () => {
    for (const url of ['https://proxy.example.com/graph', 'http://localhost:9400', 'http://127.0.0.1:9400', 'http://127.8.0.1', 'http://[::1]:9400']) {
      expect(baseUrlProblem(url), url).toBeUndefined();
    }
  });

  it('refuses plain http to anything that is not loopback, including look-alikes', () => {
    for (const url of ['http://10.0.0.1', 'http://128.0.0.1', 'http://127.0.0.1.example.com', 'http://localhost.example.com', 'http://[::2]']) {
      expect(baseUrlProblem(url), url).toBe('plain http is allowed only to loopback; use https');
    }
  });

  it('refuses other schemes, credentials and query strings without repeating the URL', () => {
    expect(baseUrlProblem('ftp://127.0.0.1')).toBe('must be an https:// URL (or http:// to a loopback address)');
    expect(baseUrlProblem('https://user:s3cr3t-pass@proxy.example.com')).toBe(
      'must not carry a user name or password; credentials belong in the secret fields',
    );
    expect(baseUrlProblem('https://proxy.example.com/?access_token=abc')).toBe('must not have a query string or fragment');
  });
});
