// Which version of its scripts a run launched: the files and hashes (any token), one file's content (admin
// and up: a script or the config file it names may hold credentials), and the run to compare a failure with.
import { Type } from '@sinclair/typebox';
import { API_PATHS, type ScriptFileReply } from '../../../shared/api';
import { executionOr404, type Api, type HttpDeps } from '../context';
import { HttpError } from '../errors';
import { ErrorReplySchema, IdParams, LastSuccessfulRunReplySchema, refusals, ScriptFileReplySchema, ScriptVersionReplySchema } from '../schemas';

const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** Text as text; anything that is not valid UTF-8 as base64, so no byte is lost. */
function encoded(content: Buffer): Pick<ScriptFileReply, 'encoding' | 'content'> {
  try {
    return { encoding: 'utf8', content: UTF8.decode(content) };
  } catch {
    return { encoding: 'base64', content: content.toString('base64') };
  }
}

export function scriptRoutes(app: Api, deps: HttpDeps): void {
  const { executions, scripts } = deps;

  app.get(
    '/api/admin/cron-executions/:id/script',
    { config: { permission: 'read' }, schema: { params: IdParams, response: { 200: ScriptVersionReplySchema, 404: ErrorReplySchema, ...refusals } } },
    async (request) => {
      const execution = await executionOr404(deps, request.params.id);
      const scriptVersion = execution.scriptVersion ?? null;
      return {
        executionId: execution.id,
        cronName: execution.cronName,
        scriptVersion,
        gitCommit: execution.gitCommit ?? null,
        files: scriptVersion ? await scripts.files(scriptVersion) : [],
      };
    },
  );

  app.get(
    '/api/admin/cron-executions/:id/script/file',
    {
      config: { permission: 'source' },
      schema: {
        params: IdParams,
        querystring: Type.Object({ path: Type.String({ minLength: 1, maxLength: 4096 }) }),
        response: { 200: ScriptFileReplySchema, 404: ErrorReplySchema, ...refusals },
      },
    },
    async (request) => {
      const execution = await executionOr404(deps, request.params.id);
      const { path } = request.query;
      const version = execution.scriptVersion;
      if (!version) {
        throw new HttpError(404, `${execution.cronName}'s run ${execution.id} has no recorded script version: its command names no file inside the config's folder, or it was not started by this server.`);
      }
      const file = await scripts.file(version, path);
      if (!file) {
        const files = await scripts.files(version);
        const listed = files.find((candidate) => candidate.path === path);
        if (listed?.skipped) throw new HttpError(404, `${path} was not kept for this run (${listed.skipped === 'too-large' ? `${listed.size} bytes, over the per-file cap` : 'past the number of files read per run'}): only its size is in the version.`);
        const known = files.map((candidate) => candidate.path).join(', ');
        throw new HttpError(404, `The run ${execution.id} launched no file "${path}"${known ? `: its files are ${known}` : ''} (GET ${API_PATHS.script(execution.id)} lists them).`);
      }
      return { executionId: execution.id, path, sha256: file.sha256, size: file.size, ...encoded(file.content) };
    },
  );

  app.get(
    '/api/admin/cron-executions/:id/last-successful',
    { config: { permission: 'read' }, schema: { params: IdParams, response: { 200: LastSuccessfulRunReplySchema, 404: ErrorReplySchema, ...refusals } } },
    async (request) => {
      const execution = await executionOr404(deps, request.params.id);
      const id = await scripts.lastSuccessfulId(execution.cronName, execution.id);
      return { execution: (id && (await executions.get(id))) || null };
    },
  );
}
