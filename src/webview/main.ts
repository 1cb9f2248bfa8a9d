// The dashboard webview's entry: restores its state, waits for the extension's config, then renders what the
// extension sends. It never talks to the server and never holds the token.
import type { FromWebview, ToWebview } from '../shared/messages';
import { Dashboard } from './dashboard';
import { h } from './dom';
import { restoreState, type WebviewState } from './filters';
import { setStrings } from './strings';
import { post, saveState, savedState } from './vscodeApi';

let locale = navigator.language || 'en';
let state: WebviewState = restoreState(savedState());
let dashboard: Dashboard | undefined;

function send(message: FromWebview): void {
  post(message);
}

function report(message: string): void {
  send({ type: 'problem', message });
}

window.addEventListener('error', (event) => report(`${event.message} (${event.filename}:${event.lineno})`));
window.addEventListener('unhandledrejection', (event) => report(String(event.reason)));
document.addEventListener('securitypolicyviolation', (event) => report(`CSP blocked ${event.effectiveDirective}: ${event.blockedURI || 'inline'}`));

/** The page is built on first use, so that the strings of a `config` message apply to all of it. */
function page(): Dashboard {
  if (!dashboard) {
    const root = document.getElementById('app') ?? document.body.appendChild(h('main', { attrs: { id: 'app' } }));
    dashboard = new Dashboard(
      root,
      {
        send,
        persist: (next) => {
          state = { ...state, ...next };
          saveState(state);
        },
        locale: () => locale,
      },
      state,
    );
  }
  return dashboard;
}

window.addEventListener('message', (event: MessageEvent<ToWebview>) => {
  const message = event.data;
  try {
    if (message.type === 'config') {
      locale = message.locale || locale;
      setStrings(message.strings);
      page();
    } else {
      page().handle(message);
    }
  } catch (error) {
    report(error instanceof Error ? `${error.message}\n${error.stack ?? ''}` : String(error));
  }
});

setInterval(() => dashboard?.tick(), 1000);

send({ type: 'ready', filter: state.filter });
