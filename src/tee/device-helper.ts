import { execFile } from 'node:child_process';

/**
 * TEE devices that answer only ioctls (/dev/nsm, /dev/sev-guest) are reached through a small helper
 * executable: it copies its stdin (the request) to the device and the device's answer to stdout.
 * Plain Node.js cannot issue an ioctl, so this is the one place that starts such a helper.
 */
const HELPER_TIMEOUT_MS = 10_000;

export function callDeviceHelper(helperPath: string, request: Buffer, device: string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = execFile(helperPath, [], { encoding: 'buffer', timeout: HELPER_TIMEOUT_MS, maxBuffer: 1 << 20 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${device} helper ${helperPath} failed: ${error.message} ${stderr.toString().trim()}`));
      else resolve(stdout);
    });
    child.stdin?.end(request);
  });
}
