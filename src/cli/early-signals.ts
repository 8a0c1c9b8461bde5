// Imported first by the entry point. SIGUSR1 is Node's "start the inspector"
// signal; newsyslog and logrotate send it to us to reopen the log. Holding a
// listener from the first moment keeps Node from ever opening a debugger port
// in a root process; the daemon adds its own reopen listener later.
//
// The first moment JavaScript has is after Node's own start-up and the
// loading of the entry point's imports (a few hundred milliseconds on a busy
// machine), and Node 20 has no switch to turn the signal off: a SIGUSR1 that
// arrives before then (a rotation just as the daemon starts) still starts an
// inspector. One that did is closed here, and then every 50 ms for the first
// 3 s, for a start the signal had set in motion but not finished (on a loaded
// machine the inspector's thread can take a second or more to open its port).
import { createRequire } from 'node:module';

process.on('SIGUSR1', () => {});

function closeInspector(): void {
  if (!process.features.inspector) return;
  const inspector = createRequire(import.meta.url)('node:inspector') as typeof import('node:inspector');
  if (inspector.url() !== undefined) inspector.close();
}

closeInspector();
const watch = setInterval(closeInspector, 50).unref();
setTimeout(() => clearInterval(watch), 3000).unref();
