// ESM entry: the same objects as the CommonJS one.
import pkg from './index.js'

export const {
  Client,
  IndoxRouterError,
  AuthenticationError,
  PermissionDeniedError,
  NotFoundError,
  ModelNotFoundError,
  InvalidParametersError,
  RateLimitError,
  InsufficientCreditsError,
  ProviderError,
  NetworkError,
  TimeoutError,
  StreamInterruptedError,
  ResponseDecodeError,
  UnsupportedError,
  ProviderNotFoundError,
  AbortError,
} = pkg
export default pkg
