// Worker entry: the service runs TypeScript through tsx, and a worker thread needs the loader too (under
// vitest or plain node it is not inherited), so it registers it before loading the worker itself.
import { register } from 'tsx/esm/api';

register();
await import('./seal-worker.ts');
