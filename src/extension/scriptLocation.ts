// Where Open Script finds a cron's script: the file the config names, as the workspace holds it. A server
// started from a build (`npm start` runs dist/demo/...) names the build copy, which the next build overwrites:
// the same file under the workspace's sources is the one to edit. No vscode import: the search is passed in.

/** Folders whose files are copies or outputs, never the source to open. */
export const BUILD_FOLDERS = ['dist', 'out', 'node_modules', '.vscode-test'];

/** True when `path` lies in one of `folders` (absolute paths, either separator). */
export function isInside(path: string, folder: string): boolean {
  const norm = (value: string) => value.replace(/\\/g, '/').replace(/\/+$/, '');
  const child = norm(path);
  const parent = norm(folder);
  return child === parent || child.startsWith(parent + '/');
}

/** True when `path`, relative to `folder`, goes through a build folder. */
export function inBuildFolder(path: string, folder: string): boolean {
  const relative = path.replace(/\\/g, '/').slice(folder.replace(/\\/g, '/').replace(/\/+$/, '').length + 1);
  return relative.split('/').slice(0, -1).some((part) => BUILD_FOLDERS.includes(part));
}

/**
 * The workspace file for a script path: the path itself when it is a source inside the workspace; else the one
 * workspace file (outside build folders) ending with the same last segments, the fewest that make it unique.
 */
export async function locateScript(
  path: string,
  workspaceFolders: readonly string[],
  find: (suffix: string) => Promise<string[]>,
): Promise<string | undefined> {
  const folder = workspaceFolders.find((candidate) => isInside(path, candidate));
  if (folder && !inBuildFolder(path, folder)) return path;
  const segments = path.replace(/\\/g, '/').split('/').filter(Boolean);
  for (let count = 2; count <= Math.min(segments.length, 5); count++) {
    const matches = await find(segments.slice(-count).join('/'));
    if (matches.length === 1) return matches[0];
    if (matches.length === 0) return undefined;
  }
  return undefined;
}
