'use strict'
// The public `indoxrouter` package: the native client (../index.js, generated
// by `napi build --platform`) plus what napi-rs cannot express — Error
// subclasses, AbortSignal wiring, `for await` streams, and `process.env` as
// the default source of keys. Conversion of requests and results happens in
// Rust.

const native = require('../index.js')

const PREFIX = 'ixr:'

/** Base class of every error this package throws. */
class IndoxRouterError extends Error {
  constructor(message, details = {}) {
    super(message)
    this.name = new.target.name
    this.code = details.code ?? 'unknown'
    this.status = details.status
    this.provider = details.provider
  }
}
class AuthenticationError extends IndoxRouterError {}
class PermissionDeniedError extends IndoxRouterError {}
class NotFoundError extends IndoxRouterError {}
class ModelNotFoundError extends NotFoundError {
  constructor(message, details = {}) {
    super(message, details)
    this.model = details.model
    this.suggestions = details.suggestions ?? []
  }
}
class InvalidParametersError extends IndoxRouterError {
  constructor(message, details = {}) {
    super(message, details)
    this.param = details.param
  }
}
class RateLimitError extends IndoxRouterError {
  constructor(message, details = {}) {
    super(message, details)
    /** Seconds the provider asked to wait, when it said. */
    this.retryAfter = details.retryAfter
  }
}
class InsufficientCreditsError extends IndoxRouterError {}
class ProviderError extends IndoxRouterError {
  constructor(message, details = {}) {
    super(message, details)
    this.retryAfter = details.retryAfter
  }
}
class NetworkError extends ProviderError {}
class TimeoutError extends IndoxRouterError {}
class StreamInterruptedError extends ProviderError {}
class ResponseDecodeError extends ProviderError {}
class UnsupportedError extends IndoxRouterError {}
class ProviderNotFoundError extends IndoxRouterError {
  constructor(message, details = {}) {
    super(message, details)
    this.envVar = details.envVar
  }
}
class AbortError extends IndoxRouterError {}

const CLASSES = {
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
}

/** Turns an encoded native error into its class; anything else is returned as is. */
function mapError(err) {
  const message = err && typeof err.message === 'string' ? err.message : ''
  if (!message.startsWith(PREFIX)) {
    // napi's own argument checks ("Failed to convert …") are bad parameters too.
    if (err instanceof Error && !(err instanceof IndoxRouterError) && err.code === 'InvalidArg') {
      return new InvalidParametersError(message, { code: 'invalid_request', status: 400 })
    }
    return err
  }
  let details
  try {
    details = JSON.parse(message.slice(PREFIX.length))
  } catch {
    return err
  }
  const Class = CLASSES[details.class] ?? IndoxRouterError
  return new Class(details.message, details)
}

function call(fn) {
  try {
    return fn().catch((e) => {
      throw mapError(e)
    })
  } catch (e) {
    return Promise.reject(mapError(e))
  }
}

/** Connects `signal` to a native Cancel token; returns [token, detach]. */
function link(signal) {
  if (signal == null) return [undefined, () => {}]
  const token = new native.Cancel()
  if (signal.aborted) {
    token.cancel()
    return [token, () => {}]
  }
  const onAbort = () => token.cancel()
  signal.addEventListener('abort', onAbort, { once: true })
  return [token, () => signal.removeEventListener('abort', onAbort)]
}

async function cancellable(signal, fn) {
  const [token, detach] = link(signal)
  try {
    return await call(() => fn(token))
  } finally {
    detach()
  }
}

function nativeOptions(options) {
  const { env, ...rest } = options
  let vars
  if (env === false) vars = {}
  else if (env == null) vars = { ...process.env }
  else vars = env
  return { ...rest, env: vars }
}

class Client {
  /**
   * Direct mode (default): provider keys from `process.env`
   * (`OPENAI_API_KEY`, …) or `apiKeys`. Hosted mode: `{ baseUrl, apiKey }`.
   */
  constructor(options = {}) {
    if (options instanceof native.NativeClient) {
      this._native = options
      return
    }
    try {
      this._native = new native.NativeClient(nativeOptions(options))
    } catch (e) {
      throw mapError(e)
    }
  }

  /** Hosted mode with a username and password. */
  static async login(options) {
    const { username, password, ...rest } = options
    const inner = await call(() => native.hostedLogin(nativeOptions(rest), username, password))
    return new Client(inner)
  }

  get providers() {
    return this._native.providers()
  }

  get isHosted() {
    return this._native.isHosted()
  }

  chat(request, options = {}) {
    return cancellable(options.signal, (t) => this._native.chat(request, t))
  }

  completion(request, options = {}) {
    return cancellable(options.signal, (t) => this._native.completion(request, t))
  }

  embeddings(request, options = {}) {
    return cancellable(options.signal, (t) => this._native.embeddings(request, t))
  }

  images(request, options = {}) {
    return cancellable(options.signal, (t) => this._native.images(request, t))
  }

  /**
   * A streamed chat as an async iterable of chunks. The request is sent when
   * iteration starts; `break` or `options.signal` closes the upstream stream.
   */
  chatStream(request, options = {}) {
    const self = this
    return (async function* stream() {
      const [token, detach] = link(options.signal)
      let inner
      try {
        try {
          inner = self._native.chatStream(request, token)
        } catch (e) {
          throw mapError(e)
        }
        for (;;) {
          const chunk = await call(() => inner.next())
          if (chunk === null) return
          yield chunk
        }
      } finally {
        detach()
        if (inner !== undefined) inner.close()
      }
    })()
  }

  balance(options = {}) {
    return cancellable(options.signal, (t) => this._native.balance(t))
  }

  usage(options = {}) {
    const { limit = 100, cursor, signal } = options
    return cancellable(signal, (t) => this._native.usage(limit, cursor, t))
  }

  async models(options = {}) {
    return this._sync(() => this._native.models(options.provider))
  }

  async model(id) {
    return this._sync(() => this._native.model(id))
  }

  async cost(model, usage) {
    return this._sync(() => this._native.cost(model, usage))
  }

  async imageCost(model, options = {}) {
    const { n = 1, size, quality } = options
    return this._sync(() => this._native.imageCost(model, n, size, quality))
  }

  _sync(fn) {
    try {
      return fn()
    } catch (e) {
      throw mapError(e)
    }
  }
}

// Spelled out (not spread) so Node's ESM loader can see the named exports.
module.exports = {
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
}
