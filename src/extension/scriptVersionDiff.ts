// Which files differ between two script versions: what Compare with Last Successful Run offers to open.
import type { ScriptFileInfo } from '../shared/api';

export interface ChangedFile {
  path: string;
  inBaseline: boolean;
  inFailing: boolean;
}

/** The files whose content differs between the two versions (added and removed ones too), in path order. */
export function changedFiles(baseline: readonly ScriptFileInfo[], failing: readonly ScriptFileInfo[]): ChangedFile[] {
  const before = new Map(baseline.map((file) => [file.path, file]));
  const after = new Map(failing.map((file) => [file.path, file]));
  const paths = [...new Set([...before.keys(), ...after.keys()])].sort();
  return paths
    .filter((path) => {
      const [a, b] = [before.get(path), after.get(path)];
      return !a || !b || a.sha256 !== b.sha256 || a.size !== b.size;
    })
    .map((path) => ({ path, inBaseline: before.has(path), inFailing: after.has(path) }));
}
