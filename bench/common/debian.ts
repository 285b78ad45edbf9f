/** The reference implementations come from Debian: installed on demand when the benchmark runs as root. */
import { run } from './proc.js';

export interface InstallOptions {
  /** Said in the `installing ...` line, after "from Debian". */
  note?: string;
  /** debconf-set-selections input, fed before the install. */
  preseed?: string;
  /** apt-get's `-o` options (e.g. a dpkg lock timeout). */
  aptOptions?: string[];
}

/** Installs the `missing` packages with apt-get (an update and a retry if the first try fails). */
export async function installFromDebian(
  missing: string[],
  log: (line: string) => void,
  options: InstallOptions = {},
): Promise<void> {
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    throw new Error(`missing ${missing.join(', ')}: run as root, or apt-get install -y ${missing.join(' ')}`);
  }
  log(`installing ${missing.join(', ')} from Debian${options.note ?? ''}`);
  if (options.preseed !== undefined) await run('debconf-set-selections', [], { input: options.preseed });
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () =>
    run('apt-get', [...(options.aptOptions ?? []), 'install', '-y', '-q', ...missing], { env });
  try {
    await install();
  } catch {
    await run('apt-get', ['update', '-q'], { env });
    await install();
  }
}
