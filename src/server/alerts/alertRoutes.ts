// GET /api/admin/alerts (destinations with their latest delivery, recent deliveries) and
// POST /api/admin/alerts/test (a test alert to one destination or all), as a Fastify plugin.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { ALERT_PATHS, type AlertsReply, type AlertTestReply } from '../../shared/alerts';
import { UnknownDestinationError } from './alerting';
import type { AlertsRuntime } from './alertsRuntime';

export interface AlertRoutesDeps {
  alerts: AlertsRuntime;
  /** Writes an audit entry (the HTTP layer's helper). */
  audit(request: FastifyRequest, action: string, target: string | null, details?: Record<string, unknown>): Promise<void>;
}

const NO_DESTINATIONS = 'No alert destinations are configured: declare them under "alerts.destinations" in the config file (see README, Alerts and retries).';

export function registerAlertRoutes(instance: FastifyInstance, deps: AlertRoutesDeps): void {
  const app = instance.withTypeProvider<TypeBoxTypeProvider>();

  app.get(
    ALERT_PATHS.alerts,
    { config: { permission: 'read' }, schema: { querystring: Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }) }) } },
    async (request): Promise<AlertsReply> => {
      const alerting = deps.alerts.alerting;
      return alerting ? alerting.status(request.query.limit) : { destinations: [], deliveries: [] };
    },
  );

  app.post(
    ALERT_PATHS.test,
    {
      config: { permission: 'act' },
      schema: { body: Type.Optional(Type.Object({ destination: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })) })) },
      // A POST with no body at all (`curl -X POST`) means every destination, as `{}` does.
      preValidation: async (request) => {
        request.body ??= {};
      },
    },
    async (request, reply) => {
      const destination = request.body?.destination;
      const alerting = deps.alerts.alerting;
      const actor = request.caller?.actor ?? 'anonymous';
      if (!alerting) {
        await deps.audit(request, 'alerts.test.refused', destination ?? null, { status: 400, reason: NO_DESTINATIONS });
        return reply.code(400).send({ success: false, error: NO_DESTINATIONS });
      }
      try {
        const { message, deliveries } = await alerting.sendTest(actor, destination);
        await deps.audit(request, 'alerts.test', destination ?? null, { alertId: message.id, destinations: deliveries.map((delivery) => delivery.destination) });
        const body: AlertTestReply = { success: true, alertId: message.id, deliveries };
        return reply.code(202).send(body);
      } catch (error) {
        if (!(error instanceof UnknownDestinationError)) throw error;
        await deps.audit(request, 'alerts.test.refused', destination ?? null, { status: 404, reason: error.message });
        return reply.code(404).send({ success: false, error: error.message });
      }
    },
  );
}
