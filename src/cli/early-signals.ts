// Imported first by the entry point. SIGUSR1 is Node's "start the inspector"
// signal; newsyslog and logrotate send it to us to reopen the log. Holding a
// listener from the first moment keeps Node from ever opening a debugger port
// in a root process; the daemon adds its own reopen listener later.
process.on('SIGUSR1', () => {});
