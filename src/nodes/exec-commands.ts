/**
 * The commands a virtual container can run under `kubectl exec`: a small built-in set, never a
 * host program. echo, printf-free shell basics (env, printenv, hostname, pwd, whoami, id, uname,
 * date, true, false, exit, sleep, test/[), cat and ls of the files the pod projects (ConfigMap, Secret and
 * downward-API volumes, /etc/hostname) and of what was written into it, `tar` for `kubectl cp`
 * (exec-tar.ts), and `sh -c` scripts of those joined by `;`, `&&`, `||`
 * with quotes and $VAR expansion. `sh` without -c reads commands from stdin, a line at a time.
 */
import { tarCommand } from './exec-tar.js';

export interface ExecEnvironment {
  hostname: string;
  env: Record<string, string>;
  /** Absolute path → content (the projected files and what was written into the pod). */
  files: Map<string, Buffer>;
  /** Where the container may write (the pod's overlay); absent, its file system is read-only. */
  writable?: WritableFiles;
}

export interface WritableFiles {
  /** Writes a file (also into `files`); an error message when refused. */
  write(path: string, content: Buffer): string | undefined;
  mkdir(path: string): string | undefined;
  readonly directories: ReadonlySet<string>;
}

/** Directories every container image has. */
const IMAGE_DIRECTORIES = new Set(['/', '/bin', '/dev', '/etc', '/home', '/proc', '/root', '/run', '/sys', '/tmp', '/usr', '/var']);

/** Whether `path` (normalized) is a directory: an image's, one made in the pod, or a parent of a file. */
export function isDirectory(environment: ExecEnvironment, path: string): boolean {
  if (IMAGE_DIRECTORIES.has(path) || environment.writable?.directories.has(path)) return true;
  const prefix = `${path}/`;
  for (const file of environment.files.keys()) if (file.startsWith(prefix)) return true;
  for (const dir of environment.writable?.directories ?? []) if (dir.startsWith(prefix)) return true;
  return false;
}

export interface ExecIo {
  stdout(data: string | Buffer): void;
  stderr(data: string | Buffer): void;
  /** The client's stdin, when it sent one (ends when the client closes it). */
  stdin?: AsyncIterable<Buffer>;
  /** Resolves when the client goes away (ends a sleep early). */
  aborted: Promise<void>;
  /** With a TTY: the terminal's size as the client last sent it (undefined before it did). */
  terminal?: () => { width: number; height: number } | undefined;
}

/** What a terminal without a size message reports (a fresh pty is 0x0; tput falls back to terminfo's 80x24). */
const DEFAULT_COLUMNS = 80;
const DEFAULT_LINES = 24;

const MAX_SLEEP_SECONDS = 3600;
const SHELLS = new Set(['sh', 'bash', 'ash', '/bin/sh', '/bin/bash', '/bin/ash', '/usr/bin/bash']);

export class ExecNotFound extends Error {}

/** Splits a shell line into words: quotes, backslashes, $VAR, ${VAR} and $? expanded. */
export function shellWords(line: string, env: Record<string, string>, lastStatus: number): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: '"' | "'" | undefined;
  const expand = (i: number): [string, number] => {
    if (line[i + 1] === '?') return [String(lastStatus), i + 2];
    if (line[i + 1] === '{') {
      const end = line.indexOf('}', i + 2);
      if (end > 0) return [env[line.slice(i + 2, end)] ?? '', end + 1];
    }
    const match = /^[A-Za-z_][A-Za-z0-9_]*/.exec(line.slice(i + 1));
    if (!match) return ['$', i + 1];
    return [env[match[0]] ?? '', i + 1 + match[0].length];
  };
  for (let i = 0; i < line.length; ) {
    const ch = line[i];
    if (quote === "'") {
      if (ch === "'") quote = undefined;
      else word += ch;
      i++;
    } else if (ch === '$') {
      const [value, next] = expand(i);
      word += value;
      inWord = true;
      i = next;
    } else if (quote === '"') {
      if (ch === '"') quote = undefined;
      else if (ch === '\\' && i + 1 < line.length && '"\\$'.includes(line[i + 1])) word += line[++i];
      else word += ch;
      i++;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      inWord = true;
      i++;
    } else if (ch === '\\' && i + 1 < line.length) {
      word += line[i + 1];
      inWord = true;
      i += 2;
    } else if (/\s/.test(ch)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
      i++;
    } else {
      word += ch;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(word);
  return words;
}

/** Splits a script at unquoted `;`, `&&`, `||` and newlines, keeping the operators. */
export function splitScript(script: string): Array<{ command: string; op: ';' | '&&' | '||' }> {
  const parts: Array<{ command: string; op: ';' | '&&' | '||' }> = [];
  let current = '';
  let quote: string | undefined;
  let op: ';' | '&&' | '||' = ';';
  for (let i = 0; i < script.length; i++) {
    const ch = script[i];
    if (quote) {
      if (ch === quote) quote = undefined;
      current += ch;
    } else if (ch === "'" || ch === '"') {
      quote = ch;
      current += ch;
    } else if (ch === ';' || ch === '\n' || ((ch === '&' || ch === '|') && script[i + 1] === ch)) {
      parts.push({ command: current, op });
      op = ch === ';' || ch === '\n' ? ';' : ch === '&' ? '&&' : '||';
      if (ch === '&' || ch === '|') i++;
      current = '';
    } else {
      current += ch;
    }
  }
  parts.push({ command: current, op });
  return parts.filter((part) => part.command.trim() !== '');
}

class Exit {
  constructor(readonly code: number) {}
}

export class BuiltinShell {
  private lastStatus = 0;

  constructor(private readonly environment: ExecEnvironment, private readonly io: ExecIo) {}

  /** Runs `argv` as the container's runtime would exec it; resolves with the exit code. */
  async exec(argv: string[]): Promise<number> {
    try {
      return await this.run(argv, true);
    } catch (error) {
      if (error instanceof Exit) return error.code;
      throw error;
    }
  }

  async script(script: string): Promise<number> {
    for (const { command, op } of splitScript(script)) {
      if (op === '&&' && this.lastStatus !== 0) continue;
      if (op === '||' && this.lastStatus === 0) continue;
      const words = shellWords(command, this.environment.env, this.lastStatus);
      if (words.length === 0) continue;
      try {
        this.lastStatus = await this.run(words, false);
      } catch (error) {
        if (error instanceof ExecNotFound) {
          this.io.stderr(`sh: ${words[0]}: not found\n`);
          this.lastStatus = 127;
        } else throw error;
      }
    }
    return this.lastStatus;
  }

  private async run(argv: string[], topLevel: boolean): Promise<number> {
    const [name, ...args] = argv;
    const base = name.includes('/') && !SHELLS.has(name) ? name.slice(name.lastIndexOf('/') + 1) : name;
    const { env, hostname } = this.environment;
    const out = (text: string | Buffer) => this.io.stdout(text);
    switch (base) {
      case 'echo': {
        const noNewline = args[0] === '-n';
        out(`${(noNewline ? args.slice(1) : args).join(' ')}${noNewline ? '' : '\n'}`);
        return 0;
      }
      case 'env':
        out(Object.entries(env).map(([k, v]) => `${k}=${v}\n`).join(''));
        return 0;
      case 'printenv':
        if (args.length === 0) return this.run(['env'], topLevel);
        for (const key of args) if (env[key] !== undefined) out(`${env[key]}\n`);
        return args.every((key) => env[key] !== undefined) ? 0 : 1;
      case 'hostname':
        out(`${hostname}\n`);
        return 0;
      case 'pwd':
        out('/\n');
        return 0;
      case 'whoami':
        out('root\n');
        return 0;
      case 'id':
        out('uid=0(root) gid=0(root) groups=0(root)\n');
        return 0;
      case 'uname':
        out(args.includes('-a') ? `Linux ${hostname} 6.1.0-nautilus-virtual #1 SMP x86_64 GNU/Linux\n` : 'Linux\n');
        return 0;
      case 'date':
        out(`${new Date().toUTCString()}\n`);
        return 0;
      case 'true':
        return 0;
      case 'false':
        return 1;
      case 'exit':
        throw new Exit(args.length > 0 ? Number.parseInt(args[0], 10) & 255 || 0 : this.lastStatus);
      case 'sleep': {
        const seconds = Math.min(Number(args[0]) || 0, MAX_SLEEP_SECONDS);
        await Promise.race([new Promise((resolve) => setTimeout(resolve, seconds * 1000)), this.io.aborted]);
        return 0;
      }
      case 'cat':
        return this.cat(args);
      case 'ls':
        return this.ls(args);
      case 'tar':
        return tarCommand(args, this.environment, this.io);
      case 'stty':
        return this.stty(args);
      case 'tput':
        return this.tput(args);
      case 'test':
        return this.test(args);
      case '[':
        if (args[args.length - 1] !== ']') {
          this.io.stderr('sh: missing ]\n');
          return 2;
        }
        return this.test(args.slice(0, -1));
      default:
        if (SHELLS.has(name)) return this.shell(args);
        throw new ExecNotFound(name);
    }
  }

  /** `stty size` (rows and columns of the session's terminal); without a TTY, busybox's complaint. */
  private stty(args: string[]): number {
    if (!this.io.terminal) {
      this.io.stderr("stty: standard input: Not a tty\n");
      return 1;
    }
    if (args.length === 1 && args[0] === 'size') {
      const size = this.io.terminal();
      this.io.stdout(`${size?.height ?? 0} ${size?.width ?? 0}\n`);
      return 0;
    }
    if (args.length === 0) return 0;
    this.io.stderr(`stty: invalid argument '${args[0]}'\n`);
    return 1;
  }

  /** `tput cols` and `tput lines`: the terminal's size, else terminfo's 80x24. */
  private tput(args: string[]): number {
    const size = this.io.terminal?.();
    if (args[0] === 'cols') this.io.stdout(`${size?.width || DEFAULT_COLUMNS}\n`);
    else if (args[0] === 'lines') this.io.stdout(`${size?.height || DEFAULT_LINES}\n`);
    else {
      this.io.stderr(`tput: unknown terminfo capability '${args[0] ?? ''}'\n`);
      return 4;
    }
    return 0;
  }

  private async cat(paths: string[]): Promise<number> {
    if (paths.length === 0) {
      for await (const chunk of this.io.stdin ?? []) this.io.stdout(chunk);
      return 0;
    }
    let status = 0;
    for (const path of paths) {
      const content = this.environment.files.get(normalizePath(path));
      if (content) this.io.stdout(content);
      else {
        this.io.stderr(`cat: can't open '${path}': No such file or directory\n`);
        status = 1;
      }
    }
    return status;
  }

  private ls(args: string[]): number {
    const targets = args.filter((a) => !a.startsWith('-'));
    let status = 0;
    for (const target of targets.length > 0 ? targets : ['/']) {
      const dir = normalizePath(target).replace(/\/$/, '');
      if (this.environment.files.has(dir)) {
        this.io.stdout(`${target}\n`);
        continue;
      }
      const names = new Set<string>();
      for (const path of this.environment.files.keys()) {
        if (!path.startsWith(`${dir}/`)) continue;
        names.add(path.slice(dir.length + 1).split('/')[0]);
      }
      if (names.size === 0 && dir !== '') {
        this.io.stderr(`ls: ${target}: No such file or directory\n`);
        status = 1;
        continue;
      }
      this.io.stdout([...names].sort().map((n) => `${n}\n`).join(''));
    }
    return status;
  }

  /** test's unary file and string checks and (in)equality; anything else is false. */
  private test(args: string[]): number {
    const [a, b, c] = args;
    if (args.length === 0) return 1;
    if (args.length === 1) return a !== '' ? 0 : 1;
    if (a === '!') return this.test(args.slice(1)) === 0 ? 1 : 0;
    if (args.length === 2) {
      const path = normalizePath(b);
      switch (a) {
        case '-d':
          return isDirectory(this.environment, path) ? 0 : 1;
        case '-f':
          return this.environment.files.has(path) ? 0 : 1;
        case '-e':
          return this.environment.files.has(path) || isDirectory(this.environment, path) ? 0 : 1;
        case '-n':
          return b !== '' ? 0 : 1;
        case '-z':
          return b === '' ? 0 : 1;
        default:
          this.io.stderr(`sh: ${a}: unknown operand\n`);
          return 2;
      }
    }
    if (b === '=' || b === '==') return a === c ? 0 : 1;
    if (b === '!=') return a !== c ? 0 : 1;
    return 1;
  }

  private async shell(args: string[]): Promise<number> {
    const c = args.indexOf('-c');
    if (c >= 0) {
      if (args[c + 1] === undefined) {
        this.io.stderr('sh: -c requires an argument\n');
        return 2;
      }
      return this.script(args[c + 1]);
    }
    // Interactive: one command per line from stdin.
    let pending = '';
    try {
      for await (const chunk of this.io.stdin ?? []) {
        pending += chunk.toString('utf8').replace(/\r/g, '\n');
        let newline: number;
        while ((newline = pending.indexOf('\n')) >= 0) {
          const line = pending.slice(0, newline);
          pending = pending.slice(newline + 1);
          await this.script(line);
        }
      }
      if (pending.trim()) await this.script(pending);
    } catch (error) {
      if (error instanceof Exit) return error.code;
      throw error;
    }
    return this.lastStatus;
  }
}

export function normalizePath(path: string): string {
  const parts: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') parts.pop();
    else parts.push(part);
  }
  return `/${parts.join('/')}`;
}
