// The webview's only channel to the extension, typed with the shared message unions.
import type { FromWebview } from '../shared/messages';
import type { WebviewState } from './filters';

interface VsCodeApi {
  postMessage(message: FromWebview): void;
  getState(): unknown;
  setState(state: WebviewState): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

const api = acquireVsCodeApi();

/** Posts a typed message to the extension. */
export function post(message: FromWebview): void {
  api.postMessage(message);
}

/** What setState saved before the page was last hidden (unchecked). */
export function savedState(): unknown {
  return api.getState();
}

export function saveState(state: WebviewState): void {
  api.setState(state);
}
