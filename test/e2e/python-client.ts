/** Runs a script under the real Python kubernetes client (python3-kubernetes), when it is installed. */
import { execFile, execFileSync } from 'node:child_process';

export const PYTHON = '/usr/bin/python3';

/** Whether `import kubernetes` works (CI installs python3-kubernetes; a test skips without it). */
export const pythonClientAvailable: boolean = (() => {
  try {
    execFileSync(PYTHON, ['-c', 'import kubernetes'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

export const SKIP_WITHOUT_PYTHON = pythonClientAvailable ? false : 'python3-kubernetes is not installed';

/** Runs `script` with KUBECONFIG set; resolves with its stdout, rejects with its stderr. */
export function runPython(script: string, kubeconfig: string, timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(PYTHON, ['-'], { env: { ...process.env, KUBECONFIG: kubeconfig }, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`python exited: ${error.message}\n${stderr}`));
      else resolve(stdout);
    });
    child.stdin!.end(script);
  });
}
