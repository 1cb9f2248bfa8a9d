// The running server's door for its own command line: a Unix socket in the data folder (0600, in a 0700
// folder). Whoever can open the data folder could change the store anyway, so that is who may use it: the
// CLI's `token` commands go through it while a server holds the folder, and take effect at once.
import { chmodSync, unlinkSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { errorText, type Logger } from './logger';
import { runTokenCommand, TokenCommandError, type TokenCommand } from './tokenCommands';
import type { AuditStore } from './store/auditStore';
import type { TokenStore } from './store/tokenStore';

type Reply = { ok: true; output: string } | { ok: false; error: string; usage: boolean };

const MAX_REQUEST_BYTES = 64 * 1024;

export async function serveControlSocket(path: string, tokens: TokenStore, audit: AuditStore, log: Logger): Promise<{ close(): Promise<void> }> {
  try {
    unlinkSync(path); // a socket left by a server that died; the folder lock says none is alive
  } catch {
    // none
  }
  const server: Server = createServer((socket) => {
    let text = '';
    socket.setEncoding('utf8');
    socket.setTimeout(10_000, () => socket.destroy());
    socket.on('error', () => undefined);
    socket.on('data', (chunk: string) => {
      text += chunk;
      if (text.length > MAX_REQUEST_BYTES) socket.destroy();
      const end = text.indexOf('\n');
      if (end < 0) return;
      socket.removeAllListeners('data');
      void answer(text.slice(0, end)).then((reply) => socket.end(JSON.stringify(reply) + '\n'));
    });
  });
  const answer = async (line: string): Promise<Reply> => {
    try {
      const command = JSON.parse(line) as TokenCommand;
      const output = await runTokenCommand(tokens, audit, command);
      log.info(`[Tokens] ${command.action}${command.name ? ` ${command.name}` : ''} by ${command.actor} (command line)`);
      return { ok: true, output };
    } catch (error) {
      return { ok: false, error: errorText(error), usage: error instanceof TokenCommandError };
    }
  };
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
  chmodSync(path, 0o600);
  return {
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        try {
          unlinkSync(path);
        } catch {
          // gone
        }
      }),
  };
}

/** Sends a command to the server holding the folder; resolves with its output, or rejects with its error. */
export function sendControlCommand(path: string, command: TokenCommand, timeoutMs = 15_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(path);
    let text = '';
    socket.setEncoding('utf8');
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`the server holding the data folder did not answer within ${timeoutMs / 1000} s`)));
    socket.on('connect', () => socket.write(JSON.stringify(command) + '\n'));
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('error', (error) => reject(new Error(`Cannot reach the running server through ${path}: ${error.message}`)));
    socket.on('end', () => {
      try {
        const reply = JSON.parse(text) as Reply;
        if (reply.ok) resolve(reply.output);
        else reject(reply.usage ? new TokenCommandError(reply.error) : new Error(reply.error));
      } catch {
        reject(new Error(`The running server gave an unreadable answer through ${path}.`));
      }
    });
  });
}
