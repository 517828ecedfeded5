/**
 * What was written into a virtual pod (`kubectl cp` into it): an in-memory overlay of files and
 * directories per pod uid, bounded in bytes, over the files the pod projects, which stay
 * read-only as the kubelet mounts them. Overlays of pods that are gone are dropped when the next
 * one is taken.
 */
import type { WritableFiles } from './exec-commands.js';

/** The most one pod's overlay holds. */
export const OVERLAY_LIMIT_BYTES = 16 * 1024 * 1024;

export interface PodRef {
  namespace: string;
  name: string;
  uid: string;
}

interface Overlay {
  pod: PodRef;
  files: Map<string, Buffer>;
  directories: Set<string>;
  bytes: number;
}

export class PodOverlays {
  private readonly overlays = new Map<string, Overlay>();

  constructor(private readonly alive: (pod: PodRef) => boolean, private readonly limitBytes = OVERLAY_LIMIT_BYTES) {}

  /**
   * The pod's writable files over `projected` (read-only): `files` is the merged view the shell
   * reads, kept current by the returned WritableFiles.
   */
  open(pod: PodRef, projected: Map<string, Buffer>): { files: Map<string, Buffer>; writable: WritableFiles } {
    for (const [uid, known] of this.overlays) if (uid !== pod.uid && !this.alive(known.pod)) this.overlays.delete(uid);
    let overlay = this.overlays.get(pod.uid);
    if (!overlay) this.overlays.set(pod.uid, (overlay = { pod, files: new Map(), directories: new Set(), bytes: 0 }));
    const state = overlay;
    const files = new Map([...projected, ...state.files]);
    const writable: WritableFiles = {
      directories: state.directories,
      write: (path, content) => {
        if (projected.has(path)) return 'Read-only file system';
        const grown = state.bytes - (state.files.get(path)?.length ?? 0) + content.length;
        if (grown > this.limitBytes) return 'No space left on device';
        state.bytes = grown;
        state.files.set(path, content);
        files.set(path, content);
        for (let dir = path.slice(0, path.lastIndexOf('/')); dir.length > 0; dir = dir.slice(0, dir.lastIndexOf('/'))) state.directories.add(dir);
        return undefined;
      },
      mkdir: (path) => {
        if (projected.has(path) || state.files.has(path)) return 'File exists';
        for (let dir = path; dir.length > 0; dir = dir.slice(0, dir.lastIndexOf('/'))) state.directories.add(dir);
        return undefined;
      },
    };
    return { files, writable };
  }
}
