// What the rest of audsync uses from config/: load a project, then narrow it for --select.
export { loadProject, type LoadOptions } from './load.js';
export { parseVars, selectSyncs } from './select.js';
