// Path dispatch under /google: the Data Manager API (/v1/...), the Google Ads API
// (/v{N}/customers/{cid}/...) and the OAuth token endpoint (/oauth2/token).
import type { SimReply } from '../simulator.js';
import type { Exchange, GoogleEnv } from './context.js';
import { changeMembers, retrieveStatus } from './data-manager.js';
import { notFound } from './errors.js';
import { addOperations, createJob, runJob, search } from './google-ads.js';
import { exchangeToken } from './oauth.js';

const DM_VERSION = 'v1';
const ADS = /^\/(v\d+)\/customers\/(\d+)\/(offlineUserDataJobs:create|offlineUserDataJobs\/(\d+):(addOperations|run)|googleAds:search)$/;

export async function route(env: GoogleEnv, ex: Exchange): Promise<SimReply> {
  const { method, path } = ex.request;
  if (path === '/oauth2/token') return exchangeToken(env, ex);

  if (path.startsWith(`/${DM_VERSION}/audienceMembers:`) || path === `/${DM_VERSION}/requestStatus:retrieve`) {
    ex.entry.api = 'data_manager';
    if (method === 'POST' && path.endsWith(':ingest')) return changeMembers(env, ex, 'ingest');
    if (method === 'POST' && path.endsWith(':remove')) return changeMembers(env, ex, 'remove');
    if (method === 'POST' && path.endsWith(':removeAll')) return changeMembers(env, ex, 'remove_all');
    if (method === 'GET' && path.endsWith('requestStatus:retrieve')) return retrieveStatus(env, ex);
  }

  const ads = ADS.exec(path);
  if (ads && method === 'POST') {
    ex.entry.api = 'google_ads';
    const call = { version: ads[1]!, customerId: ads[2]! };
    if (ads[3] === 'offlineUserDataJobs:create') return createJob(env, ex, call);
    if (ads[3] === 'googleAds:search') return search(env, ex, call);
    if (ads[5] === 'addOperations') return addOperations(env, ex, call, ads[4]!);
    return runJob(env, ex, call, ads[4]!);
  }
  throw notFound(`The sandbox has no method ${method} ${path.slice(0, 80)}`);
}
