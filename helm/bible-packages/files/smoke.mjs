// The chart's `helm test` smoke check (templates/tests/smoke.yaml runs it with node in the
// api-gateway image; tests/src/e2e/helm-smoke.int-spec.ts runs it against a real gateway).
// Env: SMOKE_BASE_URL (the gateway Service), SMOKE_BEARER_TOKEN or JWT_SECRET (+ JWT_ISSUER,
// JWT_AUDIENCE) for the catalog read. Exits non-zero on any unexpected answer.
const base = process.env.SMOKE_BASE_URL;
const get = async (path, headers = {}) => {
  const res = await fetch(base + path, { headers, signal: AbortSignal.timeout(10_000) });
  if (!res.ok) throw new Error(`GET ${path}: HTTP ${res.status} ${await res.text()}`);
  console.log(`GET ${path}: ${res.status}`);
  return res;
};
await get('/health/ready');
const doc = await (await get('/v1/openapi.json')).json();
if (!/^3\./.test(String(doc.openapi)) || !doc.paths?.['/v1/languages'])
  throw new Error('/v1/openapi.json is not the API document (no openapi 3.x, no /v1/languages)');
let token = process.env.SMOKE_BEARER_TOKEN;
if (!token && process.env.JWT_SECRET) {
  const { SignJWT } = await import('jose');
  let jwt = new SignJWT({ role: 'user' })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject('helm-test')
    .setIssuedAt()
    .setExpirationTime('5m');
  if (process.env.JWT_ISSUER) jwt = jwt.setIssuer(process.env.JWT_ISSUER);
  if (process.env.JWT_AUDIENCE) jwt = jwt.setAudience(process.env.JWT_AUDIENCE);
  token = await jwt.sign(new TextEncoder().encode(process.env.JWT_SECRET));
}
if (!token) throw new Error('no bearer token: set tests.tokenSecret (needed with JWT_JWKS_URL)');
const page = await (
  await get('/v1/languages?limit=1', { authorization: `Bearer ${token}` })
).json();
if (!Array.isArray(page.items)) throw new Error('/v1/languages: no items array');
console.log(`smoke test passed: ${page.items.length} language(s) on the first page`);
