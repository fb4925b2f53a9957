export { EngineClient, ApiError, readAll, type RequestOptions, type ApiResponse } from './client';
