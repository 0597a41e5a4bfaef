// The built-in simulators, served together; `sandbox: true` targets and `audsync sandbox` use them.
export { startSandbox, type Sandbox } from './server.js';

/** Where each destination type's simulator lives on the sandbox server. */
const simulatorPaths: Record<string, string> = {
  meta_custom_audiences: '/meta',
  google_customer_match: '/google',
};

export function sandboxPathFor(type: string): string {
  const path = simulatorPaths[type];
  if (!path) throw new Error(`the sandbox has no simulator for destination type '${type}' yet`);
  return path;
}
