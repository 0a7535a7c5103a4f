// A minimal WebSocket server side (RFC 6455) on node builtins, enough for kubectl's remote-command
// protocol: the opening handshake, unmasked binary frames to the client, masked client frames parsed
// well enough to answer pings and closes (data frames are handed to onMessage; kubectl exec without -i
// sends none). No extensions (permessage-deflate is never negotiated), no fragmentation of our frames.
import { createHash } from 'node:crypto'

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11'
const MAX_CLIENT_PAYLOAD = 1024 * 1024

export const OP = { continuation: 0x0, text: 0x1, binary: 0x2, close: 0x8, ping: 0x9, pong: 0xa }

/**
 * Sec-WebSocket-Accept for a Sec-WebSocket-Key.
 * @param {string} key
 */
export function acceptKey(key) {
  return createHash('sha1')
    .update(key + GUID)
    .digest('base64')
}

/** @param {string | string[] | undefined} v */
const headerTokens = (v) =>
  String(v || '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean)

/**
 * `Connection: Upgrade` + `Upgrade: websocket`.
 * @param {import('node:http').IncomingMessage} req
 */
export function isWebSocketRequest(req) {
  return (
    headerTokens(req.headers.connection).includes('upgrade') && headerTokens(req.headers.upgrade).includes('websocket')
  )
}

/**
 * The subprotocols the client offers, in its order of preference.
 * @param {import('node:http').IncomingMessage} req
 */
export function offeredProtocols(req) {
  return String(req.headers['sec-websocket-protocol'] || '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
}

/**
 * One server frame: FIN set, never masked (RFC 6455 §5.1).
 * @param {number} opcode
 * @param {Buffer} [payload]
 */
export function encodeFrame(opcode, payload = Buffer.alloc(0)) {
  const len = payload.length
  let head
  if (len < 126) {
    head = Buffer.from([0x80 | opcode, len])
  } else if (len < 0x10000) {
    head = Buffer.alloc(4)
    head[0] = 0x80 | opcode
    head[1] = 126
    head.writeUInt16BE(len, 2)
  } else {
    head = Buffer.alloc(10)
    head[0] = 0x80 | opcode
    head[1] = 127
    head.writeBigUInt64BE(BigInt(len), 2)
  }
  return Buffer.concat([head, payload])
}

export class ProtocolError extends Error {
  /** @param {number} code @param {string} message */
  constructor(code, message) {
    super(message)
    this.code = code // the close code to answer with
  }
}

/**
 * Incremental parser of client frames. push() returns the complete frames so far as
 * { fin, opcode, payload } (payload unmasked). Client frames must be masked (§5.1).
 */
export class FrameParser {
  /** @type {Buffer} */
  #buf = Buffer.alloc(0)

  /**
   * @param {Buffer} chunk
   * @returns {Array<{ fin: boolean, opcode: number, payload: Buffer }>}
   */
  push(chunk) {
    this.#buf = this.#buf.length ? Buffer.concat([this.#buf, chunk]) : chunk
    const frames = []
    for (;;) {
      const b = this.#buf
      if (b.length < 2) break
      const fin = (b[0] & 0x80) !== 0
      if (b[0] & 0x70) throw new ProtocolError(1002, 'reserved bits set without a negotiated extension')
      const opcode = b[0] & 0x0f
      const masked = (b[1] & 0x80) !== 0
      if (!masked) throw new ProtocolError(1002, 'client frame not masked')
      let len = b[1] & 0x7f
      let off = 2
      if (len === 126) {
        if (b.length < 4) break
        len = b.readUInt16BE(2)
        off = 4
      } else if (len === 127) {
        if (b.length < 10) break
        const big = b.readBigUInt64BE(2)
        if (big > BigInt(MAX_CLIENT_PAYLOAD)) throw new ProtocolError(1009, 'frame too large')
        len = Number(big)
        off = 10
      }
      if (len > MAX_CLIENT_PAYLOAD) throw new ProtocolError(1009, 'frame too large')
      if (opcode >= 0x8 && (len > 125 || !fin)) throw new ProtocolError(1002, 'invalid control frame')
      if (b.length < off + 4 + len) break
      const mask = b.subarray(off, off + 4)
      const payload = Buffer.from(b.subarray(off + 4, off + 4 + len))
      for (let i = 0; i < payload.length; i++) payload[i] ^= mask[i & 3]
      frames.push({ fin, opcode, payload })
      this.#buf = b.subarray(off + 4 + len)
    }
    return frames
  }
}

/**
 * Completes the opening handshake on an upgraded socket and returns a small connection object.
 * The caller has checked the request (method, key, version, protocol).
 * @param {import('node:net').Socket} socket
 * @param {Buffer} head bytes that arrived after the request headers
 * @param {{ key: string, protocol?: string, onMessage?: (opcode: number, payload: Buffer) => void }} opts
 */
export function acceptWebSocket(socket, head, { key, protocol, onMessage }) {
  const lines = [
    'HTTP/1.1 101 Switching Protocols',
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Accept: ${acceptKey(key)}`,
    ...(protocol ? [`Sec-WebSocket-Protocol: ${protocol}`] : [])
  ]
  socket.setNoDelay(true)
  socket.write(lines.join('\r\n') + '\r\n\r\n')

  const parser = new FrameParser()
  let closeSent = false
  let finished = false
  /** @type {NodeJS.Timeout | undefined} */
  let closeTimer
  /** @type {Array<() => void>} */
  const closedCallbacks = []
  const finish = () => {
    if (finished) return
    finished = true
    clearTimeout(closeTimer)
    for (const cb of closedCallbacks) cb()
  }
  const conn = {
    protocol,
    get open() {
      return !closeSent && !socket.destroyed
    },
    /** @param {Buffer} payload */
    sendBinary(payload) {
      if (conn.open) socket.write(encodeFrame(OP.binary, payload))
    },
    /** Sends a close frame, then waits (at most waitMs) for the client's close before ending the TCP stream. */
    close(code = 1000, reason = '', waitMs = 2000) {
      if (closeSent || socket.destroyed) return
      closeSent = true
      const body = Buffer.alloc(2 + Buffer.byteLength(reason))
      body.writeUInt16BE(code, 0)
      body.write(reason, 2)
      socket.write(encodeFrame(OP.close, body))
      closeTimer = setTimeout(() => socket.destroy(), waitMs)
      closeTimer.unref?.()
    },
    destroy() {
      socket.destroy()
    },
    /** @param {() => void} cb */
    onClosed(cb) {
      closedCallbacks.push(cb)
    }
  }

  /** @param {Buffer} chunk */
  const onData = (chunk) => {
    let frames
    try {
      frames = parser.push(chunk)
    } catch (err) {
      if (err instanceof ProtocolError) {
        conn.close(err.code, err.message.slice(0, 100), 200)
        return
      }
      throw err
    }
    for (const f of frames) {
      if (f.opcode === OP.close) {
        // Echo the close (§5.5.1) unless we started it, then end the stream; the client closes TCP.
        if (!closeSent) {
          closeSent = true
          socket.write(encodeFrame(OP.close, f.payload.subarray(0, 2)))
        }
        socket.end()
        return
      }
      if (f.opcode === OP.ping) {
        if (!closeSent) socket.write(encodeFrame(OP.pong, f.payload))
        continue
      }
      if (f.opcode === OP.pong) continue
      if (!closeSent) onMessage?.(f.opcode, f.payload)
    }
  }
  socket.on('data', onData)
  socket.on('error', () => socket.destroy())
  socket.on('close', finish)
  if (head?.length) onData(head)
  return conn
}
