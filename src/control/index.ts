// The control API, /metrics and the dashboard (see README.md).
export * from './provider.js';
export * from './server.js';
export { registerCtlCommand, ctlRequest, CtlError, DEFAULT_CONTROL_URL } from './ctl.js';
