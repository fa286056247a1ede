// Calls per second through `indoxrouter` and through the official `openai`
// SDK against the same fast local upstream (an OpenAI-shaped static reply),
// sequentially and at 32 concurrent calls.
//
//   UPSTREAM=http://127.0.0.1:18080/v1 node bench/bench.mjs
//
// scripts/node_bench.sh starts the nginx upstream, builds the release addon
// and runs this. SECS (default 5) is the duration of each measurement.
import OpenAI from 'openai'

import { Client } from '../lib/index.mjs'

const upstream = process.env.UPSTREAM ?? 'http://127.0.0.1:18080/v1'
const secs = Number(process.env.SECS ?? 5)
const messages = [
  { role: 'system', content: 'You are a helpful assistant.' },
  { role: 'user', content: 'Hello, how are you?' },
]

const ixr = new Client({ env: false, apiKeys: { openai: 'sk-bench' }, baseUrls: { openai: upstream }, maxRetries: 0 })
const oai = new OpenAI({ apiKey: 'sk-bench', baseURL: upstream, maxRetries: 0 })

const targets = {
  indoxrouter: () => ixr.chat({ model: 'openai/gpt-4o-mini', messages }),
  'openai-node': () => oai.chat.completions.create({ model: 'gpt-4o-mini', messages }),
}

async function measure(call, concurrency) {
  const deadline = performance.now() + secs * 1000
  let done = 0
  const worker = async () => {
    while (performance.now() < deadline) {
      await call()
      done += 1
    }
  }
  const start = performance.now()
  await Promise.all(Array.from({ length: concurrency }, worker))
  return done / ((performance.now() - start) / 1000)
}

// Both answers must parse the same reply, or the comparison means nothing.
const a = await targets.indoxrouter()
const b = await targets['openai-node']()
if (a.choices[0].message.content !== b.choices[0].message.content) {
  throw new Error('the two clients disagree about the reply')
}

for (const [name, call] of Object.entries(targets)) {
  await measure(call, 32) // warm-up: connections, JIT
}
const rows = []
for (const concurrency of [1, 32]) {
  for (const [name, call] of Object.entries(targets)) {
    rows.push({ client: name, concurrency, callsPerSec: Math.round(await measure(call, concurrency)) })
  }
}
console.table(rows)
const ratio = (c) => (rows.find((r) => r.client === 'indoxrouter' && r.concurrency === c).callsPerSec /
  rows.find((r) => r.client === 'openai-node' && r.concurrency === c).callsPerSec).toFixed(2)
console.log(`indoxrouter / openai-node: sequential ${ratio(1)}x, 32 concurrent ${ratio(32)}x (node ${process.version})`)
