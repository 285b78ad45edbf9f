/**
 * A minimal raw-socket POP3 client for the benchmark: single-line commands, multi-line responses read
 * until CRLF "." CRLF (RFC 1939 §3) with the octets counted, and RETR 1..n pipelined (RFC 2449 §6.6) in
 * batches of commands per write. Bodies are kept only when asked (the verified pass); the timed passes
 * only count octets, so the client does one `indexOf` per received chunk.
 */
import { connect, type Socket } from 'node:net';

const CRLF = Buffer.from('\r\n');
const TERMINATOR = Buffer.from('\r\n.\r\n');
const EMPTY = Buffer.alloc(0);

export interface Response {
  /** The status line, without CRLF. */
  status: string;
  ok: boolean;
  /** Multi-line responses: octets between the status line and the terminating ".CRLF" (stuffing included). */
  bytes: number;
  /** Multi-line responses, when collected: those octets. */
  body?: Buffer;
}

interface Expectation {
  multi: boolean;
  collect: boolean;
  done(r: Response): void;
}

export class Pop3Client {
  readonly #socket: Socket;
  readonly #queue: Expectation[] = [];
  /** A partial status line. */
  #pending: Buffer = EMPTY;
  /** Inside a multi-line body. */
  #current: { exp: Expectation; status: string; counted: number; carry: Buffer; parts: Buffer[] } | null =
    null;
  #error: Error | null = null;
  #closed = false;
  readonly #closedPromise: Promise<void>;
  /** Octets received on the socket. */
  received = 0;

  private constructor(socket: Socket) {
    this.#socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    this.#closedPromise = new Promise((resolve) => {
      socket.on('close', () => {
        this.#closed = true;
        this.#failAll(new Error('connection closed'));
        resolve();
      });
    });
    socket.on('error', (error) => {
      this.#error = error;
      this.#failAll(error);
    });
  }

  /** Connects to 127.0.0.1:port and reads the greeting. */
  static async connect(port: number): Promise<{ client: Pop3Client; greeting: string }> {
    const socket = connect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    const client = new Pop3Client(socket);
    const greeting = await client.#expect(false, false);
    if (!greeting.ok) throw new Error(`greeting: ${greeting.status}`);
    return { client, greeting: greeting.status };
  }

  /** Sends one command and reads its single-line response. */
  async command(line: string): Promise<Response> {
    const r = this.#expect(false, false);
    this.#socket.write(`${line}\r\n`);
    return r;
  }

  /** A command that must succeed. */
  async must(line: string): Promise<string> {
    const r = await this.command(line);
    if (!r.ok) throw new Error(`${line.split(' ')[0]}: ${r.status}`);
    return r.status;
  }

  /** Sends one command with a multi-line response (CAPA, UIDL, LIST, RETR n) and reads it. */
  async multi(line: string, collect = true): Promise<Response> {
    const r = this.#expect(true, collect);
    this.#socket.write(`${line}\r\n`);
    return r;
  }

  /**
   * RETR 1..count, pipelined: `batch` commands per write, at most `window` unanswered. Calls `onMessage`
   * for each response in order (with the body when `collect`). Resolves with the totals.
   */
  retrAll(
    count: number,
    opts: { batch: number; window: number; collect?: boolean; onMessage?: (n: number, r: Response) => void },
  ): Promise<{ messages: number; bytes: number; errors: string[] }> {
    const collect = opts.collect ?? false;
    return new Promise((resolve, reject) => {
      let next = 1;
      let outstanding = 0;
      let answered = 0;
      let messages = 0;
      let bytes = 0;
      const errors: string[] = [];
      const send = () => {
        while (next <= count && outstanding + opts.batch <= opts.window) {
          const end = Math.min(count, next + opts.batch - 1);
          let text = '';
          for (let n = next; n <= end; n++) {
            const msgNo = n;
            text += `RETR ${n}\r\n`;
            this.#queue.push({
              multi: true,
              collect,
              done: (r) => {
                if (this.#error || (this.#closed && !r.ok && r.status === '')) {
                  reject(this.#error ?? new Error('connection closed during RETR'));
                  return;
                }
                outstanding--;
                answered++;
                if (r.ok) {
                  messages++;
                  bytes += r.bytes;
                } else if (errors.length < 10) errors.push(`RETR ${msgNo}: ${r.status}`);
                opts.onMessage?.(msgNo, r);
                if (answered === count) resolve({ messages, bytes, errors });
                else send();
              },
            });
          }
          outstanding += end - next + 1;
          next = end + 1;
          this.#socket.write(text);
        }
      };
      send();
    });
  }

  /** Sends QUIT, reads the answer and waits until the server closes the connection. */
  async quit(): Promise<string> {
    const r = await this.command('QUIT');
    await Promise.race([this.#closedPromise, new Promise((resolve) => setTimeout(resolve, 30_000))]);
    if (!r.ok) throw new Error(`QUIT: ${r.status}`);
    return r.status;
  }

  destroy(): void {
    this.#socket.destroy();
  }

  #expect(multi: boolean, collect: boolean): Promise<Response> {
    return new Promise((resolve, reject) => {
      if (this.#closed || this.#error) {
        reject(this.#error ?? new Error('connection closed'));
        return;
      }
      this.#queue.push({
        multi,
        collect,
        done: (r) => {
          if (r.status === '' && (this.#error || this.#closed)) reject(this.#error ?? new Error('closed'));
          else resolve(r);
        },
      });
    });
  }

  #failAll(_error: Error): void {
    const waiting = this.#current ? [this.#current.exp, ...this.#queue] : [...this.#queue];
    this.#current = null;
    this.#queue.length = 0;
    for (const e of waiting) e.done({ status: '', ok: false, bytes: 0 });
  }

  #onData(chunk: Buffer): void {
    this.received += chunk.length;
    let data = chunk;
    let pos = 0;
    while (pos < data.length) {
      const cur = this.#current;
      if (cur) {
        // Inside a body: look for CRLF "." CRLF, across the boundary with the previous chunk too.
        const piece = pos === 0 ? data : data.subarray(pos);
        let end = -1;
        const c = cur.carry.length;
        if (c > 0) {
          const boundary = Buffer.concat([cur.carry, piece.subarray(0, TERMINATOR.length - 1)]);
          const t = boundary.indexOf(TERMINATOR);
          if (t >= 0) end = t + TERMINATOR.length - c;
        }
        if (end < 0) {
          const t = piece.indexOf(TERMINATOR);
          if (t >= 0) end = t + TERMINATOR.length;
        }
        if (end < 0) {
          cur.counted += piece.length;
          if (cur.exp.collect) cur.parts.push(piece);
          const tail =
            piece.length >= 4 ? piece.subarray(piece.length - 4) : Buffer.concat([cur.carry, piece]);
          cur.carry = Buffer.from(tail.subarray(Math.max(0, tail.length - 4)));
          return;
        }
        cur.counted += end;
        if (cur.exp.collect) cur.parts.push(piece.subarray(0, end));
        this.#current = null;
        // The body is everything after the status line's CRLF up to the ".CRLF" of the terminator.
        const bytes = cur.counted - 3;
        const r: Response = { status: cur.status, ok: true, bytes };
        if (cur.exp.collect) r.body = Buffer.concat(cur.parts).subarray(0, bytes);
        cur.exp.done(r);
        pos += end;
        continue;
      }
      // A status line.
      if (this.#pending.length > 0) {
        data = Buffer.concat([this.#pending, pos === 0 ? data : data.subarray(pos)]);
        pos = 0;
        this.#pending = EMPTY;
      }
      const nl = data.indexOf(CRLF, pos);
      if (nl < 0) {
        this.#pending = Buffer.from(data.subarray(pos));
        return;
      }
      const status = data.toString('latin1', pos, nl);
      const exp = this.#queue.shift();
      pos = nl + 2;
      if (!exp) {
        this.#error = new Error(`unexpected line from the server: ${status}`);
        this.#socket.destroy(this.#error);
        return;
      }
      const ok = status.startsWith('+OK');
      if (exp.multi && ok) {
        // The status line's CRLF starts the search, so an empty body (".CRLF" right away) ends it too.
        this.#current = { exp, status, counted: 0, carry: CRLF, parts: [] };
      } else {
        exp.done({ status, ok, bytes: 0 });
      }
    }
  }
}
