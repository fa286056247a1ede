// Starts the provider simulator (tests/simulator) on a free port, as
// tests/conformance/conftest.py does, and builds clients pointed at it.
import { spawn } from 'node:child_process'
import { createInterface } from 'node:readline'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

import indoxrouter from '../lib/index.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
export const REPO_ROOT = path.resolve(here, '..', '..', '..')
export const API_KEY = 'sk-node-test-0123456789abcdef'

function simulatorBinary() {
  const target = process.env.CARGO_TARGET_DIR
    ? path.resolve(REPO_ROOT, process.env.CARGO_TARGET_DIR)
    : path.join(REPO_ROOT, 'target')
  const bin = path.join(target, 'debug', 'indoxrouter-simulator')
  if (!existsSync(bin)) {
    throw new Error(`simulator not found at ${bin}; build it with \`cargo build -p indoxrouter-simulator\` (scripts/node.sh does)`)
  }
  return bin
}

export async function startSimulator() {
  const proc = spawn(simulatorBinary(), ['--port', '0', '--api-key', API_KEY], {
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
