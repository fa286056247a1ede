// Hosted mode: every call goes through an IndoxRouter server, which holds
// the provider keys and charges your balance (server: `cargo run --release
// -p indoxrouter-server`; create a key with POST /api/v1/keys).
import { Client } from 'indoxrouter'

async function main(): Promise<void> {
  const client = new Client({ baseUrl: 'http://localhost:8000', apiKey: process.env.INDOXROUTER_API_KEY ?? '' })
  const r = await client.chat({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'Hello!' }] })
  console.log(r.choices[0].message.content, 'charged', r.cost?.total)
  const { balance, available } = await client.balance()
  console.log({ balance, available })
  const page = await client.usage({ limit: 10 })
  for (const row of page.data) console.log(row.createdAt, row.model, row.cost)

  // Or log in with a username and password (the token lasts an hour).
  const viaLogin = await Client.login({ baseUrl: 'http://localhost:8000', username: 'admin', password: process.env.INDOXROUTER_PASSWORD ?? '' })
  console.log((await viaLogin.balance()).balance)
}

main().catch((e: unknown) => {
  console.error(e)
  process.exitCode = 1
})
