/**
 * The control socket protocol: one JSON object per line each way.
 *
 *   request  { token, user, argv, stdin? }     argv as the CLI got it (after `delegato`)
 *   response { code, stdout, stderr }          exactly what the CLI prints and its exit status
 *
 * One request per connection. The token is `<data dir>/control.token`; a wrong token is refused.
 */
export interface ControlRequest {
  token: string;
  /** The local user running the CLI, for the audit log. */
  user: string;
  argv: string[];
  stdin?: string;
}

export interface ControlResponse {
  code: number;
  stdout: string;
  stderr: string;
}

/** Requests larger than this are refused (a command line plus a password is tiny). */
export const MAX_REQUEST_BYTES = 256 * 1024;
