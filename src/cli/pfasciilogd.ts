#!/usr/bin/env node
// The installed entry point (bundled into dist/bin/pfasciilogd.js). Its one
// static import installs the SIGUSR1 listener; the program is imported only
// after that, so no other module is loaded or run while a log-rotation
// signal could still start Node's inspector.
import './early-signals.js';

await import('./main.js');
