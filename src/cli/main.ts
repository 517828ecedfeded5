#!/usr/bin/env node
/** The `nautilus` command: one entry point, one module per subcommand. */

import { UsageError, isParseArgsError, reportUsageError } from './usage.js';

type Command = { summary: string; load: () => Promise<{ run(argv: string[]): Promise<number> }> };

const COMMANDS: Record<string, Command> = {
  serve: { summary: 'run the control plane', load: () => import('./serve.js') },
  verify: { summary: "check a server's attestation, then write a kubeconfig pinning it", load: () => import('./verify.js') },
  snapshot: { summary: 'save or restore a sealed backup of the whole state', load: () => import('./snapshot.js') },
  measure: { summary: 'print the measurements to put in an attestation policy', load: () => import('./measure.js') },
  nodes: { summary: 'run virtual nodes that join a running server as kubelets', load: () => import('./nodes.js') },
  import: { summary: "copy an existing cluster's objects into Nautilus", load: () => import('./import.js') },
  export: { summary: 'write the cluster as YAML files kubectl apply -R loads', load: () => import('./export.js') },
};

function usage(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return `Usage: nautilus <command> [options]\n       nautilus --version\n\nCommands:\n${lines.join('\n')}\n\nRun nautilus <command> --help for a command's options.\n`;
}

async function main(): Promise<number> {
  const [name, ...rest] = process.argv.slice(2);
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    // No command is a usage error: the usage goes to stderr then, and the exit code is 2.
    (name ? process.stdout : process.stderr).write(usage());
    return name ? 0 : 2;
  }
  if (name === '--version' || name === 'version') {
    // dist/src/cli/main.js → the package.json at the repository root.
    const { readFileSync } = await import('node:fs');
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
    const { KUBERNETES_VERSION } = await import('../server/control-plane.js');
    process.stdout.write(`nautilus ${pkg.version} (Kubernetes ${KUBERNETES_VERSION.gitVersion})\n`);
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    process.stderr.write(`nautilus: unknown command ${JSON.stringify(name)} (see \`nautilus --help\`)\n`);
    return 2;
  }
  try {
    return await (await command.load()).run(rest);
  } catch (error) {
    // Unknown flags and missing values (parseArgs) are usage errors in every command.
    if (error instanceof UsageError || isParseArgsError(error)) return reportUsageError(process.stderr, name, (error as Error).message);
    throw error;
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
