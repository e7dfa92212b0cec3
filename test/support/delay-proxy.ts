/**
 * A delaying TCP proxy: a registry "far away" without kernel features (no tc/netem). Every chunk is
 * forwarded `delayMs` after it arrived, in each direction separately, so a round trip costs 2 × delayMs
 * more and the bytes of each direction keep their order. It does not look inside the stream, so it
 * works for TLS, HTTP/1.1 and HTTP/2 alike (docs/testing.md#registry-timing).
 *
 *   const proxy = await startDelayProxy(reg.host, 20)   // '127.0.0.1:PORT' of the registry, ms each way
 *   // talk to `https://${proxy.host}` (the registry's certificate is for IP:127.0.0.1, so it still verifies)
 *   proxy.connections                                    // TCP connections accepted so far
 *   await proxy.stop()
 */
import net from 'node:net'
import type {AddressInfo} from 'node:net'

export interface DelayProxy {
  /** '127.0.0.1:PORT' */
  host: string
  /** TCP connections accepted since start (or since the last reset of this counter). */
  connections: number
  /** Bytes forwarded client → upstream and upstream → client. */
  bytesUp: number
  bytesDown: number
  stop(): Promise<void>
}

/**
 * Forward src → dst, each chunk (and the end of stream) `delayMs` after it arrived. One queue and
 * one timer per direction, so chunks never overtake each other.
 */
function delayedPipe(src: net.Socket, dst: net.Socket, delayMs: number, count: (n: number) => void): void {
  const queue: Array<{at: number; chunk: Buffer | null}> = []
  let timer: NodeJS.Timeout | undefined
  const flush = (): void => {
    timer = undefined
    const now = performance.now()
    while (queue.length > 0 && (queue[0] as {at: number}).at <= now + 0.5) {
      const {chunk} = queue.shift() as {at: number; chunk: Buffer | null}
      if (dst.destroyed) return
      if (chunk === null) dst.end()
      else {
        count(chunk.length)
        dst.write(chunk)
      }
    }
    if (queue.length > 0) timer = setTimeout(flush, Math.max(0, (queue[0] as {at: number}).at - performance.now()))
  }
  const push = (chunk: Buffer | null): void => {
    queue.push({at: performance.now() + delayMs, chunk})
    if (timer === undefined) timer = setTimeout(flush, Math.max(0, (queue[0] as {at: number}).at - performance.now()))
  }
  src.on('data', (c: Buffer) => push(c))
  src.on('end', () => push(null))
  src.on('close', () => {
    // A reset (not a clean end) is passed on as a reset, after the same delay.
    if (!src.readableEnded) setTimeout(() => dst.destroy(), delayMs)
  })
}

export async function startDelayProxy(target: string, delayMs: number): Promise<DelayProxy> {
  const [targetHost, targetPort] = ((): [string, number] => {
    const i = target.lastIndexOf(':')
    return [target.slice(0, i), Number(target.slice(i + 1))]
  })()
  const sockets = new Set<net.Socket>()
  const proxy: DelayProxy = {host: '', connections: 0, bytesUp: 0, bytesDown: 0, stop: async () => undefined}
  const server = net.createServer((client) => {
    proxy.connections++
    client.setNoDelay(true)
    const upstream = net.connect({host: targetHost, port: targetPort})
    upstream.setNoDelay(true)
    for (const s of [client, upstream]) {
      sockets.add(s)
      s.on('close', () => sockets.delete(s))
      s.on('error', () => undefined)
    }
    delayedPipe(client, upstream, delayMs, (n) => (proxy.bytesUp += n))
    delayedPipe(upstream, client, delayMs, (n) => (proxy.bytesDown += n))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  proxy.host = `127.0.0.1:${(server.address() as AddressInfo).port}`
  proxy.stop = () =>
    new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy()
      server.close(() => resolve())
    })
  return proxy
}
