// The process ends cleanly whatever the addon is doing at the time. Each
// scenario of exit/scenarios.mjs and each example runs 50 times in its own
// process and must exit with status 0 every time: a crash at exit shows up
// in a few percent of runs, so one run proves nothing.
import { test, before, after } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

import { startSimulator, startServer, API_KEY, REPO_ROOT } from './helpers.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
const RUNS = Number(process.env.INDOXROUTER_EXIT_RUNS ?? 50)
const SCENARIOS = ['exitMidStream', 'exitWithCallsInFlight', 'exitWithBusyWorkers', 'terminateBusyWorkers']

let sim
before(async () => { sim = await startSimulator() })
after(() => sim?.stop())

/** One run: resolves to { code, signal, stderr } whatever the outcome. */
function once(args, env) {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { env, timeout: 60_000 }, (err, _stdout, stderr) => {
      resolve({ code: err ? err.code : 0, signal: err?.signal ?? null, stderr })
    })
  })
}

/** Runs `args` RUNS times, two at a time; every run must exit with 0. */
async function runMany(args, env) {
  const results = []
  for (let i = 0; i < RUNS; i += 2) {
    results.push(...await Promise.all([once(args, env), once(args, env)].slice(0, Math.min(2, RUNS - i))))
  }
  const failed = results.filter((r) => r.code !== 0)
  assert.equal(failed.length, 0,
    `${failed.length} of ${RUNS} runs failed (${[...new Set(failed.map((r) => r.signal ?? r.code))]}):\n${failed[0]?.stderr.slice(-3000)}`)
}

const simEnv = () => ({ PATH: process.env.PATH, SIM_ROOT: sim.root, SIM_KEY: API_KEY })

for (const name of SCENARIOS) {
  test(`exit is clean: ${name}`, async () => {
    await runMany([path.join(here, 'exit', 'scenarios.mjs'), name], simEnv())
  })
}

/** An example, type-stripped with the pinned TypeScript and written inside
 * the package so its `import … from 'indoxrouter'` resolves to this package. */
async function example(name) {
  const ts = (await import('typescript')).default
  const source = readFileSync(path.join(REPO_ROOT, 'examples', 'node', `${name}.ts`), 'utf8')
  const js = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  }).outputText
  const file = path.join(here, `.exit-${name}-${process.pid}.mjs`)
  writeFileSync(file, js)
  return file
}

test('examples/node/direct.ts exits cleanly', async () => {
  const file = await example('direct')
  try {
    const env = { PATH: process.env.PATH }
    for (const [provider, url] of Object.entries(sim.baseUrls())) {
      const prefix = provider === 'google' ? 'GEMINI' : provider.toUpperCase()
      env[`${prefix}_API_KEY`] = API_KEY
      env[`${prefix}_BASE_URL`] = url
    }
    await runMany([file], env)
  } finally {
    rmSync(file, { force: true })
  }
})

test('examples/node/hosted.ts exits cleanly', async () => {
  const server = await startServer(sim)
  const file = await example('hosted')
  try {
    const user = await server.makeUser('50')
    await runMany([file], { PATH: process.env.PATH, INDOXROUTER_BASE_URL: server.url, INDOXROUTER_API_KEY: user.key })
  } finally {
    rmSync(file, { force: true })
    await server.stop()
  }
})
