// Starts the provider simulator (tests/simulator) on a free port, as
// tests/conformance/conftest.py does, and builds clients pointed at it; and
// a real indoxrouter-server in front of it for hosted mode.
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { existsSync, mkdtempSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

import indoxrouter from '../lib/index.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
// Overridable so the suite can run against an installed package from
// outside the repository (scripts/package_node.sh).
export const REPO_ROOT = process.env.INDOXROUTER_REPO ?? path.resolve(here, '..', '..', '..')
export const API_KEY = 'sk-node-test-0123456789abcdef'

/** A binary of this workspace, built by scripts/node.sh. */
function binary(name) {
  const target = process.env.CARGO_TARGET_DIR
    ? path.resolve(REPO_ROOT, process.env.CARGO_TARGET_DIR)
    : path.join(REPO_ROOT, 'target')
  const bin = path.join(target, 'debug', name)
  if (!existsSync(bin)) {
    throw new Error(`${name} not found at ${bin}; build it with \`cargo build -p indoxrouter-server -p indoxrouter-simulator\` (scripts/node.sh does)`)
  }
  return bin
}

export async function startSimulator() {
  const proc = spawn(binary('indoxrouter-simulator'), ['--port', '0', '--api-key', API_KEY], {
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  const lines = createInterface({ input: proc.stdout })
  const first = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('simulator did not start within 30 s')), 30_000)
    lines.once('line', (line) => {
      clearTimeout(timer)
      resolve(line.trim())
    })
    proc.once('exit', (code) => reject(new Error(`simulator exited with ${code}`)))
  })
  const prefix = 'listening on '
  if (!first.startsWith(prefix)) throw new Error(`unexpected simulator output: ${first}`)
  const root = first.slice(prefix.length)
  return new Sim(root, proc)
}

export class Sim {
  constructor(root, proc) {
    this.root = root
    this.proc = proc
  }

  stop() {
    this.proc.kill()
  }

  async control(route, body) {
    const res = await fetch(`${this.root}/__sim/${route}`, body === undefined
      ? {}
      : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
    if (!res.ok) throw new Error(`control ${route}: ${res.status} ${await res.text()}`)
    return res.json()
  }

  /** Queues `fault` (header syntax or object) for the next request to `provider`. */
  fault(provider, fault, times = 1) {
    return this.control('faults', { provider, fault, times })
  }

  async count() {
    return (await this.control('count')).count
  }

  async lastRequest() {
    const all = await this.control('requests')
    return all[all.length - 1]
  }

  async openStreams() {
    return (await this.control('streams')).open
  }

  /** Waits until no response body is open (a closed stream really hung up). */
  async waitNoOpenStreams(timeoutMs = 5000) {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const open = await this.openStreams()
      if (open === 0) return
      if (Date.now() > deadline) throw new Error(`${open} upstream stream(s) still open after ${timeoutMs} ms`)
      await new Promise((r) => setTimeout(r, 20))
    }
  }

  /** Provider id → the simulator's base URL for it. */
  baseUrls() {
    return {
      openai: `${this.root}/openai/v1`,
      mistral: `${this.root}/mistral`,
      anthropic: `${this.root}/anthropic`,
      google: `${this.root}/google`,
      cohere: `${this.root}/cohere`,
    }
  }

  client(options = {}) {
    const providers = ['openai', 'mistral', 'anthropic', 'google', 'cohere']
    const apiKeys = Object.fromEntries(providers.map((p) => [p, API_KEY]))
    const baseUrls = {
      openai: `${this.root}/openai/v1`,
      mistral: `${this.root}/mistral`,
      anthropic: `${this.root}/anthropic`,
      google: `${this.root}/google`,
      cohere: `${this.root}/cohere`,
    }
    return new indoxrouter.Client({ env: false, apiKeys, baseUrls, maxRetries: 0, ...options })
  }
}

export const USER = [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content: 'Say hello to the world' },
]
export const REPLY = 'Hello from the simulator. You said: Say hello to the world'

// ----- hosted mode: a real indoxrouter-server with the simulator upstream -----

export const ADMIN_PASSWORD = 'admin-password-for-node-tests'
export const USER_PASSWORD = 'user-password-for-node-tests'

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })
}

/** A JSON request outside the package under test: `{ status, body }`. */
export async function httpJson(method, url, body, token) {
  const headers = { 'content-type': 'application/json' }
  if (token) headers.authorization = `Bearer ${token}`
  const res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
  const text = await res.text()
  return { status: res.status, body: text ? JSON.parse(text) : null }
}

/**
 * Starts indoxrouter-server on an ephemeral port with a temporary data dir,
 * a known admin password and every provider pointed at `sim`. Its
 * environment is built from scratch (no provider keys or INDOXROUTER_*
 * settings from the caller's shell) and its cwd holds no `.env`.
 */
export async function startServer(sim) {
  const workdir = mkdtempSync(path.join(os.tmpdir(), 'indoxrouter-node-hosted-'))
  const logPath = path.join(workdir, 'server.log')
  const port = await freePort()
  const urls = sim.baseUrls()
  const env = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    INDOXROUTER_HOST: '127.0.0.1',
    INDOXROUTER_PORT: String(port),
    INDOXROUTER_DATA_DIR: path.join(workdir, 'data'),
    INDOXROUTER_ADMIN_PASSWORD: ADMIN_PASSWORD,
    INDOXROUTER_LOG: 'info',
    // Roomy by default; the rate-limit test gives a key the `tight` tier.
    INDOXROUTER_TIERS: 'tight=1:100000,roomy=100000:100000000',
    INDOXROUTER_DEFAULT_TIER: 'roomy',
    // An abandoned stream reads its provider for usage this long (default 30).
    INDOXROUTER_DRAIN_SECONDS: '1',
    NO_COLOR: '1',
    OPENAI_API_KEY: API_KEY,
    OPENAI_BASE_URL: urls.openai,
    ANTHROPIC_API_KEY: API_KEY,
    ANTHROPIC_BASE_URL: urls.anthropic,
    GEMINI_API_KEY: API_KEY,
    GEMINI_BASE_URL: urls.google,
    MISTRAL_API_KEY: API_KEY,
    MISTRAL_BASE_URL: urls.mistral,
    COHERE_API_KEY: API_KEY,
    COHERE_BASE_URL: urls.cohere,
  }
  const log = openSync(logPath, 'w')
  const proc = spawn(binary('indoxrouter-server'), [], { cwd: workdir, env, stdio: ['ignore', log, log] })
  closeSync(log)
  const server = new Server(`http://127.0.0.1:${port}`, proc, workdir, logPath)
  let exited = null
  proc.once('exit', (code) => { exited = code ?? 'signal' })
  const deadline = Date.now() + 30_000
  for (;;) {
    if (exited !== null) throw new Error(`indoxrouter-server exited with ${exited}:\n${server.logTail()}`)
    try {
      const { status, body } = await httpJson('GET', `${server.url}/health`)
      if (status === 200 && body?.status === 'ok') break
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await server.stop()
      throw new Error(`indoxrouter-server not healthy within 30 s:\n${server.logTail()}`)
    }
    await new Promise((r) => setTimeout(r, 50))
  }
  server.adminToken = await server.login('admin', ADMIN_PASSWORD)
  return server
}

let userNumber = 0

export class Server {
  constructor(url, proc, workdir, logPath) {
    this.url = url
    this.proc = proc
    this.workdir = workdir
    this.logPath = logPath
  }

  api(method, route, body, token) {
    return httpJson(method, `${this.url}${route}`, body, token)
  }

  async login(username, password) {
    const { status, body } = await this.api('POST', '/api/v1/auth/login', { username, password })
    if (status !== 200) throw new Error(`login ${username}: ${status} ${JSON.stringify(body)}`)
    return body.access_token
  }

  /** A fresh user with `credits` (USD string) and an `ixr-` API key, made through the admin API. */
  async makeUser(credits = '5') {
    userNumber += 1
    const name = `node-${process.pid}-${userNumber}`
    const created = await this.api('POST', '/api/v1/admin/users', { username: name, password: USER_PASSWORD, credits }, this.adminToken)
    if (created.status !== 201) throw new Error(`create user: ${created.status} ${JSON.stringify(created.body)}`)
    const token = await this.login(name, USER_PASSWORD)
    // The package reads balance and usage with the key too.
    const key = await this.api('POST', '/api/v1/keys', { name: 'node-tests', scopes: ['inference', 'usage:read'] }, token)
    if (key.status !== 201) throw new Error(`create key: ${key.status} ${JSON.stringify(key.body)}`)
    const server = this
    return {
      name,
      password: USER_PASSWORD,
      key: key.body.key,
      token,
      /** The balance as the server's own account API reports it (a decimal string). */
      async balance() {
        const { status, body } = await server.api('GET', '/api/v1/users/me', undefined, token)
        if (status !== 200) throw new Error(`me: ${status}`)
        return body.balance
      },
      async usage() {
        const { status, body } = await server.api('GET', '/api/v1/users/me/usage', undefined, token)
        if (status !== 200) throw new Error(`usage: ${status}`)
        return body.data
      },
    }
  }

  logTail(lines = 100) {
    try {
      return readFileSync(this.logPath, 'utf8').split('\n').slice(-lines).join('\n')
    } catch (e) {
      return `(no server log: ${e.message})`
    }
  }

  async stop() {
    if (this.proc.exitCode === null && this.proc.signalCode === null) {
      const exited = new Promise((r) => this.proc.once('exit', r))
      this.proc.kill('SIGTERM')
      const timer = setTimeout(() => this.proc.kill('SIGKILL'), 10_000)
      await exited
      clearTimeout(timer)
    }
    rmSync(this.workdir, { recursive: true, force: true })
  }
}

/**
 * An exact USD decimal string (`"4.99998"`, `"0.0000012"`) as a BigInt of
 * pico-dollars, the core's unit, so amounts compare and add exactly.
 */
export function pico(usd) {
  const m = /^(-?)(\d+)(?:\.(\d{1,12}))?$/.exec(usd)
  if (m === null) throw new Error(`not an exact USD amount: ${JSON.stringify(usd)}`)
  const [, sign, whole, frac = ''] = m
  const value = BigInt(whole) * 10n ** 12n + BigInt(frac.padEnd(12, '0'))
  return sign === '-' ? -value : value
}
