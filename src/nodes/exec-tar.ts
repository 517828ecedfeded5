/**
 * `tar` in the virtual container, for `kubectl cp`: `tar cf - PATH…` (what kubectl runs to copy
 * from a pod) archives the files the container sees, and `tar -xmf - [-C DIR]` (to a pod) unpacks
 * stdin into the pod's writable overlay. Busybox's messages and exit codes; only `f -` (stdin or
 * stdout) is an archive it can reach.
 */
import { readTar, TarError, writeTar, type TarEntry } from './tar.js';
import { isDirectory, normalizePath, type ExecEnvironment, type ExecIo } from './exec-commands.js';

/** The most a container's stdin archive may hold. */
const MAX_ARCHIVE_BYTES = 16 * 1024 * 1024;

interface TarOptions {
  mode?: 'c' | 'x' | 't';
  file?: string;
  directory: string;
  paths: string[];
}

function parse(args: string[]): TarOptions | string {
  const options: TarOptions = { directory: '/', paths: [] };
  const takeBundle = (letters: string, rest: string[]): string | undefined => {
    for (const letter of letters) {
      if (letter === 'c' || letter === 'x' || letter === 't') options.mode = letter;
      else if (letter === 'f') {
        if (rest.length === 0) return "option requires an argument -- 'f'";
        options.file = rest.shift();
      } else if (letter === 'C') {
        if (rest.length === 0) return "option requires an argument -- 'C'";
        options.directory = rest.shift()!;
      } else if (!'mvopz'.includes(letter)) return `invalid option -- '${letter}'`;
    }
    return undefined;
  };
  const rest = [...args];
  // The first word may be an old-style bundle without a dash ("cf").
  if (rest[0] && !rest[0].startsWith('-')) {
    const error = takeBundle(rest.shift()!, rest);
    if (error) return error;
  }
  while (rest.length > 0) {
    const arg = rest.shift()!;
    if (arg.startsWith('--directory=')) options.directory = arg.slice('--directory='.length);
    else if (arg === '--no-same-permissions' || arg === '--no-same-owner') continue;
    else if (arg.startsWith('--')) return `unrecognized option '${arg}'`;
    else if (arg.startsWith('-') && arg.length > 1) {
      const error = takeBundle(arg.slice(1), rest);
      if (error) return error;
    } else options.paths.push(arg);
  }
  return options;
}

export async function tarCommand(args: string[], environment: ExecEnvironment, io: ExecIo): Promise<number> {
  const options = parse(args);
  if (typeof options === 'string') {
    io.stderr(`tar: ${options}\n`);
    return 1;
  }
  if (!options.mode) {
    io.stderr("tar: need to specify one of '-ctx'\n");
    return 1;
  }
  if (options.file !== undefined && options.file !== '-') {
    io.stderr(`tar: can't open '${options.file}': Read-only file system\n`);
    return 1;
  }
  const base = normalizePath(options.directory);
  if (!isDirectory(environment, base)) {
    io.stderr(`tar: can't change directory to '${options.directory}': No such file or directory\n`);
    return 1;
  }
  return options.mode === 'c' ? create(options, base, environment, io) : extract(options.mode, base, environment, io);
}

function create(options: TarOptions, base: string, environment: ExecEnvironment, io: ExecIo): number {
  if (options.paths.length === 0) {
    io.stderr('tar: empty archive\n');
    return 1;
  }
  const entries: TarEntry[] = [];
  const now = Date.now();
  let status = 0;
  let strippedSlash = false;
  const nameOf = (absolute: string, given: string) => {
    if (given.startsWith('/')) {
      strippedSlash = true;
      return absolute.slice(1);
    }
    return absolute.slice(base === '/' ? 1 : base.length + 1);
  };
  for (const given of options.paths) {
    const absolute = normalizePath(given.startsWith('/') ? given : `${base}/${given}`);
    const file = environment.files.get(absolute);
    if (file) {
      entries.push({ name: nameOf(absolute, given), type: 'file', mode: 0o644, mtime: now, content: file });
      continue;
    }
    if (!isDirectory(environment, absolute)) {
      io.stderr(`tar: ${given}: No such file or directory\n`);
      status = 1;
      continue;
    }
    const prefix = absolute === '/' ? '/' : `${absolute}/`;
    const directories = new Set<string>([absolute]);
    const files = [...environment.files.keys()].filter((path) => path.startsWith(prefix)).sort();
    for (const path of files) for (let dir = path.slice(0, path.lastIndexOf('/')); dir.length > absolute.length; dir = dir.slice(0, dir.lastIndexOf('/'))) directories.add(dir);
    for (const dir of [...directories].sort()) entries.push({ name: `${nameOf(dir, given)}/`.replace(/^\/$/, './'), type: 'directory', mode: 0o755, mtime: now, content: Buffer.alloc(0) });
    for (const path of files) entries.push({ name: nameOf(path, given), type: 'file', mode: 0o644, mtime: now, content: environment.files.get(path)! });
  }
  if (strippedSlash) io.stderr("tar: removing leading '/' from member names\n");
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  io.stdout(writeTar(entries));
  return status;
}

async function extract(mode: 'x' | 't', base: string, environment: ExecEnvironment, io: ExecIo): Promise<number> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of io.stdin ?? []) {
    size += chunk.length;
    if (size > MAX_ARCHIVE_BYTES) {
      io.stderr('tar: write error: No space left on device\n');
      return 1;
    }
    chunks.push(chunk);
  }
  let entries: TarEntry[];
  try {
    entries = readTar(Buffer.concat(chunks));
  } catch (error) {
    if (!(error instanceof TarError)) throw error;
    io.stderr('tar: invalid tar magic\n');
    return 1;
  }
  if (mode === 't') {
    io.stdout(entries.map((entry) => `${entry.name}\n`).join(''));
    return 0;
  }
  const writable = environment.writable;
  if (!writable) {
    io.stderr(`tar: can't create directory '${base}': Read-only file system\n`);
    return 1;
  }
  let status = 0;
  for (const entry of entries) {
    const target = normalizePath(`${base}/${entry.name}`);
    const refused = entry.type === 'directory' ? writable.mkdir(target) : writable.write(target, entry.content);
    if (refused) {
      io.stderr(`tar: can't open '${entry.name}': ${refused}\n`);
      status = 1;
    }
  }
  return status;
}
