// Worker threads of Node 20 do not inherit tsx's loader for their entry file: register it, then load the TypeScript worker.
import { register } from 'tsx/esm/api';

register();
await import('./drift-worker.ts');
