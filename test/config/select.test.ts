import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadProject, parseVars, selectSyncs } from '../../src/config/index.js';
import { UsageError } from '../../src/core/errors.js';
import type { Manifest } from '../../src/core/manifest.js';
import { CUSTOMERS_YML, ENV, removeProjects, writeProject } from './project-fixture.js';

let manifest: Manifest;

beforeAll(async () => {
  // customers gets a sync of its own, so selections can tell models apart.
  const customers = CUSTOMERS_YML + 'syncs:\n  - destination: meta_main\n    audience: { name: All customers }\n';
  manifest = await loadProject(await writeProject({ 'models/customers.yml': customers }), { env: ENV });
  await removeProjects();
});
afterEach(removeProjects);

const ids = (selector?: string) => selectSyncs(manifest, selector).map((s) => s.id);

describe('selectSyncs', () => {
  it('selects every sync, in manifest order, without a selector', () => {
    expect(ids()).toEqual(['customers__meta_main', 'recent_purchasers__meta_main', 'recent_purchasers_us']);
    expect(ids(' ')).toEqual(ids());
  });

  it('selects by model name', () => {
    expect(ids('recent_purchasers')).toEqual(['recent_purchasers__meta_main', 'recent_purchasers_us']);
  });

  it('selects by tag', () => {
    expect(ids('tag:suppression')).toEqual(['recent_purchasers__meta_main', 'recent_purchasers_us']);
    expect(ids('tag:base')).toEqual(['customers__meta_main']);
  });

  it('selects by destination', () => {
    expect(ids('destination:meta_main')).toEqual(ids());
  });

  it('selects by sync id', () => {
    expect(ids('recent_purchasers_us')).toEqual(['recent_purchasers_us']);
  });

  it('returns the union of comma-separated terms in manifest order', () => {
    expect(ids('recent_purchasers_us, customers,recent_purchasers_us')).toEqual(['customers__meta_main', 'recent_purchasers_us']);
  });

  it('refuses a term that matches nothing, naming it and the models', () => {
    let error: unknown;
    try {
      selectSyncs(manifest, 'customers,recent_buyers,tag:nope');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toBe(
      "--select 'recent_buyers', 'tag:nope' matches no model, tag, destination or sync; models: customers, recent_purchasers",
    );
  });

  it('refuses an unknown destination', () => {
    expect(() => selectSyncs(manifest, 'destination:google_ads')).toThrow(UsageError);
  });
});

describe('parseVars', () => {
  it('reads a JSON object', () => {
    expect(parseVars('{"purchase_window_days": 7, "brand": "acme"}')).toEqual({ purchase_window_days: 7, brand: 'acme' });
  });

  it('refuses JSON that is not an object, and text that is not JSON', () => {
    expect(() => parseVars('[1, 2]')).toThrow(UsageError);
    expect(() => parseVars('[1, 2]')).toThrow(/^--vars must be a JSON object$/);
    expect(() => parseVars('null')).toThrow(UsageError);
    expect(() => parseVars('{purchase_window_days: 7}')).toThrow(/^--vars is not valid JSON: /);
  });
});
