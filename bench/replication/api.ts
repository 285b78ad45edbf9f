/**
 * The admin JSON API of one lab region over HTTPS (its self-signed certificate, loopback only): one
 * kept-alive connection per region, a bearer token from `POST /api/v1/tokens` with the operator's
 * credentials from lab.json (tokens are per appliance: each region issues its own).
 */
import { Agent, request } from 'node:https';

export interface ApiAnswer {
  status: number;
  body: unknown;
}

export class RegionApi {
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 4, rejectUnauthorized: false });
  #token = '';

  constructor(
    readonly region: string,
    readonly host: string,
    readonly port: number,
  ) {}

  /** Signs in as the operator (one argon2id verification in that region) and keeps the token. */
  async signIn(username: string, password: string): Promise<void> {
    const res = await this.call('POST', '/api/v1/tokens', { username, password });
    if (res.status !== 201)
      throw new Error(`${this.region}: token: ${res.status} ${JSON.stringify(res.body)}`);
    this.#token = (res.body as { token: string }).token;
  }

  /** One request; resolves with the status and the parsed JSON body (or the text). */
  call(method: string, path: string, body?: unknown): Promise<ApiAnswer> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host: this.host,
          port: this.port,
          path,
          method,
          agent: this.#agent,
          headers: {
            accept: 'application/json',
            ...(this.#token ? { authorization: `Bearer ${this.#token}` } : {}),
            ...(payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (d: Buffer) => chunks.push(d));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: unknown = text;
            try {
              parsed = JSON.parse(text);
            } catch {}
            resolve({ status: res.statusCode ?? 0, body: parsed });
          });
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(payload);
    });
  }

  /** Like call(), but a status outside 2xx is an error naming the region and the request. */
  async must(method: string, path: string, body?: unknown): Promise<unknown> {
    const res = await this.call(method, path, body);
    if (res.status < 200 || res.status > 299) {
      throw new Error(`${this.region}: ${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
    }
    return res.body;
  }

  close(): void {
    this.#agent.destroy();
  }
}
