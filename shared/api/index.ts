export { ApiContext, Query, type StreamWriter } from './context';
export { Router, type Handler } from './router';
export { ApiServer, parseHost, type Listener } from './server';
export { API_VERSION, MIN_API_VERSION, splitVersion, compareVersions } from './version';
export { frame, Demuxer, StreamType } from './stdcopy';
export { streamProgress } from './progress';
export { loadTlsFiles, loadServerTls, describeTlsError, type TlsFiles, type TlsMaterial, type ServerTls } from './tls';
