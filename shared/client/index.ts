export { EngineClient, ApiError, readAll, type RequestOptions, type ApiResponse, type EngineClientOptions } from './client';
