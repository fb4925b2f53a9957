export { compileNatsConfig, renderNatsConfig, natsClientUrl, type NatsServerOptions, type NatsServerConfig } from './config';
export { NatsServer, NATS_BINARY, type NatsServerRunOptions } from './server';
