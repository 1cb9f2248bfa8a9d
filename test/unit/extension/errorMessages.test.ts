import { strict as assert } from 'node:assert';
import { asErrorReply, failureMessage } from '../../../src/extension/errorMessages';

const baseUrl = 'http://127.0.0.1:9998';

describe('error messages', () => {
  it('tells how to start a server that does not answer', () => {
    const message = failureMessage({ kind: 'unreachable', action: 'read', baseUrl, cause: 'ECONNREFUSED' });
    assert.match(message, /Cannot reach the Cron Ops server at http:\/\/127\.0\.0\.1:9998 \(ECONNREFUSED\)/);
    assert.match(message, /npm start/);
    assert.match(message, /cronOps\.serverUrl/);
  });

  it('says a timeout with its length', () => {
    assert.match(failureMessage({ kind: 'timeout', action: 'read', baseUrl, timeoutMs: 10_000 }), /did not answer within 10 sec\./);
  });

  it('says a reply that is not Cron Ops JSON points at the wrong server', () => {
    assert.match(failureMessage({ kind: 'malformed', action: 'read', baseUrl, status: 200, cause: 'not JSON: <html>' }), /not Cron Ops JSON \(not JSON: <html>\).*cronOps\.serverUrl/);
  });

  it('asks to sign in again on 401 and names the role problem on 403', () => {
    assert.match(failureMessage({ kind: 'http', action: 'read', baseUrl, status: 401, reply: { success: false, error: 'Unknown or revoked token' } }), /Sign In.*The server says: Unknown or revoked token\./);
    const forbidden = failureMessage({ kind: 'http', action: 'trigger', baseUrl, status: 403, reply: { success: false, error: 'Your token has the viewer role' } });
    assert.match(forbidden, /^Your token's role cannot trigger crons\. Ask for an admin or super-admin token/);
  });

  it('turns the guide\'s 409 and 429 into what to do', () => {
    const running = failureMessage({
      kind: 'http',
      action: 'trigger',
      baseUrl,
      status: 409,
      target: 'monitor-openai',
      reply: { success: false, error: 'Cron is already running', runningExecutionId: 'uuid-xxx' },
    });
    assert.equal(running, 'monitor-openai is already running (execution uuid-xxx). Wait for it to end, or cancel it.');
    const limited = failureMessage({ kind: 'http', action: 'trigger', baseUrl, status: 429, target: 'check-alerts', reply: { success: false, error: 'Rate limit reached', retryAfterS: 27, cronName: 'check-alerts' } });
    assert.equal(limited, 'check-alerts can be triggered again in 27 sec (limit on manual runs).');
    const ended = failureMessage({ kind: 'http', action: 'cancel', baseUrl, status: 409, target: 'abc', reply: { success: false, error: 'no longer running', status: 'completed' } });
    assert.equal(ended, 'Execution abc is no longer running (status completed): nothing to do.');
  });

  it('passes the server\'s own sentence for other refusals and points at the log for 5xx', () => {
    assert.equal(failureMessage({ kind: 'http', action: 'trigger', baseUrl, status: 400, reply: { success: false, error: 'Param "batchSize" must be an integer, got "x"' } }), 'Param "batchSize" must be an integer, got "x".');
    assert.match(failureMessage({ kind: 'http', action: 'read', baseUrl, status: 503, reply: { success: false, error: 'The store is unavailable: retry in a few seconds.' } }), /^The Cron Ops server failed \(HTTP 503\)\. Check its log, then retry\. The server says: The store is unavailable/);
    assert.equal(failureMessage({ kind: 'http', action: 'read', baseUrl, status: 418 }), 'The Cron Ops server answered HTTP 418. Check its log.');
  });

  it('reads error replies leniently', () => {
    assert.deepEqual(asErrorReply({ error: 'x', retryAfterS: 3 }), { error: 'x', retryAfterS: 3, success: false });
    assert.equal(asErrorReply('<html>'), undefined);
    assert.equal(asErrorReply({ message: 'no error field' }), undefined);
  });
});
