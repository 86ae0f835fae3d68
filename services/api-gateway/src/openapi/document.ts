import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import './core-routes';
import { buildOpenApiDocument } from './registry';

/**
 * The OpenAPI document without starting the gateway: loads every `*.openapi` module (each
 * registers its routes when imported) in a fixed order and builds the document, as the served
 * `/v1/openapi.json` does. `npm run client:generate` generates the typed client from it.
 */
export function gatewayOpenApiDocument(version = '1.0.0'): Record<string, unknown> {
  const src = join(__dirname, '..');
  const modules = readdirSync(src, { recursive: true, encoding: 'utf8' })
    .filter((f) => /\.openapi\.js$/.test(f))
    .sort();
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- registration is a side effect of loading
  for (const file of modules) require(join(src, file));
  return buildOpenApiDocument(version);
}
