// Every published normalization vector in ../shared/reference/destination-apis.md (Google's Data
// Manager table §2b, Meta's SDK vectors §1, Snap's SDK vectors §5), run through the real candidate
// SQL (candidateSql over a VALUES model of the raw inputs, then encodeSql) on DuckDB and Postgres.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { metaCapabilities } from '../../src/platforms/meta/capabilities.js';
import { encodeSql } from '../../src/warehouse/sql/normalize.js';
import { candidateOf, ENGINES, openEngine, ruleOf, type Engine, type KindRule, type RawRow } from './engines.js';
import * as ref from './reference.js';

const { sha256 } = ref;

const EMAIL_GOOGLE: KindRule = { kind: 'email', rule: ruleOf('email_google') };
const EMAIL_META: KindRule = { kind: 'email', rule: metaCapabilities.identifiers.email! };
const PHONE_E164: KindRule = { kind: 'phone', rule: ruleOf('phone_e164') };
const PHONE_DIGITS: KindRule = { kind: 'phone', rule: metaCapabilities.identifiers.phone! }; // Meta and Snap: digits, no '+'
const LAST_NAME_META: KindRule = { kind: 'last_name', rule: metaCapabilities.identifiers.last_name! };

// §2b, Google Data Manager: [raw input, normalized, documented SHA-256]
const GOOGLE_EMAILS: [string, string, string][] = [
  ['dana@example.com', 'dana@example.com', '07e2f1394b0ea80e2adca010ea8318df697001a005ba7452720edda4b0ce57b3'],
  ['DanaM@example.com', 'danam@example.com', '1df6b43bc68dd38eca94e6a65b4f466ae537b796c81a526918b40ac4a7b906c7'],
  ['ALEXF@example.com', 'alexf@example.com', '19de0a9906ebee29fe82087be5ec44f3c01e40730bc808b663c71f19dd6b12f2'],
  ['quinn@CYMBALGROUP.com', 'quinn@cymbalgroup.com', '05bb62526f091b45d20e243d194766cca8869137421047dc53fa4876d111a6f0'],
  ['cloudySanFrancisco@GMAIL.com', 'cloudysanfrancisco@gmail.com', '223ebda6f6889b1494551ba902d9d381daf2f642bae055888e96343d53e9f9c4'],
  // The formatting page's own examples: the Gmail rule, and another domain left alone.
  ['cloudy.sanfrancisco+shopping@gmail.com', 'cloudysanfrancisco@gmail.com', '223ebda6f6889b1494551ba902d9d381daf2f642bae055888e96343d53e9f9c4'],
  ['user.name+NYC@Example.com', 'user.name+nyc@example.com', sha256('user.name+nyc@example.com')],
];
const GOOGLE_PHONES: [string, string, string][] = [
  ['+1-800-555-0100', '+18005550100', 'fb4f73a6ec5fdb7077d564cdd22c3554b43ce49168550c3b12c547b78c517b30'],
  ['+1 800-555-0101', '+18005550101', '61d6c2976b5d92b1ad63073a12fddd26040cd980067d03a93dd1cc50f1a3ac68'],
  ['+18005550110', '+18005550110', '525c2390a4e2a9766fa8ddc341dd10414603baebefa401f5a5e29f55e176525d'],
  ['(800)555-0100', '+18005550100', 'fb4f73a6ec5fdb7077d564cdd22c3554b43ce49168550c3b12c547b78c517b30'], // the page's example, national, region US
];

// §1, Meta SDK vectors: python SDK unit.py (EMAIL_SHA256) and Node SDK utils.test.js (ln).
const META_TEST_HASH = '9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08';
const META_EMAILS = ['  test  ', 'test', '..test..'];

// §5, Snap SDK vectors (test_util.py); the SDK assumes country code 1 when none is given.
const SNAP_EMAIL: [string, string, string] = ['    test123@example.com  ', 'test123@example.com', '20b82517b67108ed3a171539dc5dd1da605660249b02f38dd70f572a545c7d18'];
const SNAP_PHONES: [string, string, string][] = [
  ['+44-447-234-2344', '444472342344', '19f25a18866af88fc60189c3af85010a0b971cf976053787fe21e004538c20a0'],
  ['0044-447-234-2344', '444472342344', '19f25a18866af88fc60189c3af85010a0b971cf976053787fe21e004538c20a0'],
  ['+44-0447-234-2344', '444472342344', '19f25a18866af88fc60189c3af85010a0b971cf976053787fe21e004538c20a0'],
  ['+44 0447 234 2344', '444472342344', '19f25a18866af88fc60189c3af85010a0b971cf976053787fe21e004538c20a0'],
  ['447-234-2344', '14472342344', '34053b331d29734f081bf74160cd33bc2f621b3b6f8ec991500bebf49f14e014'],
  ['(447)-234-2344', '14472342344', '34053b331d29734f081bf74160cd33bc2f621b3b6f8ec991500bebf49f14e014'],
];

describe('the published hashes are SHA-256 of the normalized text (node:crypto, before any SQL)', () => {
  it('as the reference lists them', () => {
    for (const [, normalized, hash] of [...GOOGLE_EMAILS, ...GOOGLE_PHONES, SNAP_EMAIL, ...SNAP_PHONES]) expect(sha256(normalized)).toBe(hash);
    expect(sha256('test')).toBe(META_TEST_HASH);
    expect(sha256('eg')).toMatch(/^d8c59e83[0-9a-f]{52}9d78$/);
    expect(sha256('18005550100')).toMatch(/^92cfdc5f[0-9a-f]{51}3046c$/);
  });
});

describe.each(ENGINES)('published vectors through the candidate SQL on %s', (name) => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await openEngine(name);
  });
  afterAll(async () => {
    await engine?.close();
  });

  const run = (rows: RawRow[], ids: KindRule[], defaultRegion = 'US') => candidateOf(engine, rows, ids, defaultRegion);

  it('Google Data Manager emails (email_google): normalized text and the documented SHA-256', async () => {
    const out = await run(GOOGLE_EMAILS.map(([raw]) => ({ email: raw })), [EMAIL_GOOGLE]);
    expect(out.map((o) => [o.n.n_email__email_google, o.sent.n_email__email_google])).toEqual(GOOGLE_EMAILS.map(([, n, h]) => [n, h]));
  });

  it('Google Data Manager phones (phone_e164): E.164 with + and the documented SHA-256', async () => {
    const out = await run(GOOGLE_PHONES.map(([raw]) => ({ phone: raw })), [PHONE_E164]);
    expect(out.map((o) => [o.n.n_phone__phone_e164, o.sent.n_phone__phone_e164])).toEqual(GOOGLE_PHONES.map(([, n, h]) => [n, h]));
  });

  it("negative control: 18005550100 without '+' (Meta's phone_digits) hashes differently from +18005550100", async () => {
    const out = await run([{ phone: '+1-800-555-0100' }], [PHONE_E164, PHONE_DIGITS]);
    expect(out[0]!.n).toEqual({ n_phone__phone_e164: '+18005550100', n_phone__phone_digits: '18005550100' });
    expect(out[0]!.sent.n_phone__phone_e164).toBe('fb4f73a6ec5fdb7077d564cdd22c3554b43ce49168550c3b12c547b78c517b30');
    expect(out[0]!.sent.n_phone__phone_digits).toMatch(/^92cfdc5f[0-9a-f]{51}3046c$/);
    expect(out[0]!.sent.n_phone__phone_digits).not.toBe(out[0]!.sent.n_phone__phone_e164);
  });

  it('Meta SDK EMAIL vectors "  test  ", "test", "..test..": normalized to "test" (9f86d0...), which the product refuses as no address', async () => {
    // The SDK's normalization step (whitespace and dots at the ends, lowercase) as the reference reads the rule...
    for (const raw of META_EMAILS) expect(ref.emailBase(raw)).toBe('test');
    // ...and what encodeSql sends for that normalized text on this engine: the SDK's hash.
    const [row] = await engine.query<{ h: string }>(`SELECT ${encodeSql(engine.d, EMAIL_META.rule, "CAST('test' AS TEXT)")} AS h`);
    expect(row!.h).toBe(META_TEST_HASH);
    // The product validates: "test" is no address, so the real email rule makes these NULL (not sent).
    const out = await run(META_EMAILS.map((raw) => ({ email: raw })), [EMAIL_META]);
    expect(out.map((o) => [o.present.email, o.n.n_email__email, o.sent.n_email__email])).toEqual(META_EMAILS.map(() => [true, null, null]));
  });

  it('a real address with the same messiness passes end to end, to the SHA-256 of its normalized text', async () => {
    const raws = ['  Test@Example.com  ', 'Test@Example.com', '..Test@Example.com..', ' \t..TEST@EXAMPLE.COM.\n'];
    const out = await run(raws.map((raw) => ({ email: raw })), [EMAIL_META, EMAIL_GOOGLE]);
    for (const o of out) {
      expect(o.n).toEqual({ n_email__email: 'test@example.com', n_email__email_google: 'test@example.com' });
      expect(o.sent.n_email__email).toBe(sha256('test@example.com'));
      expect(o.sent.n_email__email_google).toBe(sha256('test@example.com'));
    }
  });

  it("Meta SDK LN vector: '  Eg  ' -> 'eg' -> sha256('eg') (d8c59e83...9d78)", async () => {
    const out = await run([{ last_name: '  Eg  ' }], [LAST_NAME_META]);
    expect(out[0]!.n.n_last_name__name).toBe('eg');
    expect(out[0]!.sent.n_last_name__name).toBe(sha256('eg'));
    expect(out[0]!.sent.n_last_name__name).toMatch(/^d8c59e83[0-9a-f]{52}9d78$/);
  });

  it('Meta SDK: an already hashed email (64 hex) passes through unchanged', async () => {
    const out = await run([{ email: META_TEST_HASH }, { email: ` ${META_TEST_HASH.toUpperCase()} ` }], [EMAIL_META]);
    expect(out.map((o) => o.sent.n_email__email)).toEqual([META_TEST_HASH, META_TEST_HASH]);
  });

  it('Snap SDK email vector: trimmed and lowercased, to its SHA-256', async () => {
    const out = await run([{ email: SNAP_EMAIL[0] }], [EMAIL_META]);
    expect([out[0]!.n.n_email__email, out[0]!.sent.n_email__email]).toEqual([SNAP_EMAIL[1], SNAP_EMAIL[2]]);
  });

  it('Snap SDK phone vectors (phone_digits, default region US as the SDK assumes code 1): digits and their SHA-256', async () => {
    const out = await run(SNAP_PHONES.map(([raw]) => ({ phone: raw })), [PHONE_DIGITS], 'US');
    expect(out.map((o) => [o.n.n_phone__phone_digits, o.sent.n_phone__phone_digits])).toEqual(SNAP_PHONES.map(([, n, h]) => [n, h]));
  });

  it('the vectors also hold when the row carries its country instead of the default', async () => {
    const rows: RawRow[] = [
      { phone: '(800)555-0100', country: ' us ' },
      { phone: '447-234-2344', country: 'US' },
      { phone: '0447 234 2344', country: 'gb' }, // the Snap number in British national form
    ];
    const out = await run(rows, [PHONE_E164, PHONE_DIGITS], 'FR');
    expect(out.map((o) => [o.n.n_phone__phone_e164, o.sent.n_phone__phone_digits])).toEqual([
      ['+18005550100', sha256('18005550100')],
      ['+14472342344', '34053b331d29734f081bf74160cd33bc2f621b3b6f8ec991500bebf49f14e014'],
      ['+444472342344', '19f25a18866af88fc60189c3af85010a0b971cf976053787fe21e004538c20a0'],
    ]);
  });
});
