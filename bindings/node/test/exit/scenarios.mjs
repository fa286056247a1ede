// Scripts that end the process while the addon is busy, run by
// exit.test.mjs: `process.exit` with a stream open or calls in flight, and
// worker threads using the addon when they are terminated or the process
// exits. Each must end with status 0 every time.
//
//   node scenarios.mjs SCENARIO   # SIM_ROOT and SIM_KEY in the environment
import { Worker, isMainThread, workerData } from 'node:worker_threads'
import { fileURLToPath } from 'node:url'

import { Client } from '../../lib/index.mjs'

const MODEL = 'openai/gpt-4o-mini'
const say = (content) => [{ role: 'user', content }]

function client() {
  return new Client({
    env: false,
    apiKeys: { openai: process.env.SIM_KEY },
    baseUrls: { openai: `${process.env.SIM_ROOT}/openai/v1` },
    maxRetries: 0,
  })
}

/** Chats and streams until the thread is stopped. */
async function busy(c) {
  for (;;) {
    await Promise.all(Array.from({ length: 4 }, (_, i) => c.chat({ model: MODEL, messages: say(`Say ${i}`) })))
    for await (const chunk of c.chatStream({ model: MODEL, messages: say('Count to twenty.') })) void chunk
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

const scenarios = {
  async exitMidStream() {
    const c = client()
    let n = 0
    for await (const chunk of c.chatStream({ model: MODEL, messages: say('Count to twenty.') })) {
      void chunk
      if (++n === 2) process.exit(0)
    }
  },

  async exitWithCallsInFlight() {
    const c = client()
    for (let i = 0; i < 8; i++) c.chat({ model: MODEL, messages: say(`Say ${i}`) }).catch(() => {})
    const stream = c.chatStream({ model: MODEL, messages: say('Count to twenty.') })[Symbol.asyncIterator]()
    stream.next().catch(() => {})
    await sleep(Math.random() * 20)
    process.exit(0)
  },

  async exitWithBusyWorkers() {
    for (let i = 0; i < 2; i++) new Worker(fileURLToPath(import.meta.url), { workerData: 'worker' })
    await sleep(150)
    process.exit(0)
  },

  async terminateBusyWorkers() {
    const workers = Array.from({ length: 2 }, () => new Worker(fileURLToPath(import.meta.url), { workerData: 'worker' }))
    await sleep(150)
    await Promise.all(workers.map((w) => w.terminate()))
    // The addon still works in the main thread afterwards, and the process
    // ends on its own.
    const r = await client().chat({ model: MODEL, messages: say('still here') })
    if (!r.choices[0].message.content) throw new Error('no reply after terminating workers')
  },
}

if (!isMainThread && workerData === 'worker') {
  await busy(client())
} else {
  const name = process.argv[2]
  if (!(name in scenarios)) throw new Error(`unknown scenario ${name}`)
  await scenarios[name]()
}
