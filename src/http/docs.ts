import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';

/** OpenAPI 3 from the route schemas (one source for validation and docs). Must be registered before the routes. */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'oms-parser-bridge',
        version: '1',
        description:
          'Gateways POST wM-Bus/OMS telegrams; the bridge stores them, parses them (Lobaro or built-in decoder) and publishes ' +
          'readings and errors on MQTT. Every error answer has the shape {"error":{"code","message","details"?}}.',
      },
      components: {
        securitySchemes: {
          gatewayKey: { type: 'http', scheme: 'bearer', description: 'A gateway key from INGEST_API_KEYS.' },
          adminToken: { type: 'http', scheme: 'bearer', description: 'ADMIN_TOKEN. Gateway keys never work on /v1/admin.' },
        },
      },
      tags: [
        { name: 'gateway', description: 'The gateway API' },
        { name: 'admin: keys' }, { name: 'admin: meters' }, { name: 'admin: mappings' }, { name: 'admin: telegrams' }, { name: 'admin: operations' },
        { name: 'operations', description: 'Health, readiness, metrics' },
      ],
    },
    transform: ({ schema, url }) => {
      const s = { ...(schema as Record<string, unknown>) };
      if (url.startsWith('/v1/admin')) s.security = [{ adminToken: [] }];
      return { schema: s as typeof schema, url };
    },
  });
}

export async function registerDocsUi(app: FastifyInstance): Promise<void> {
  await app.register(swaggerUi, { routePrefix: '/docs' });
}
