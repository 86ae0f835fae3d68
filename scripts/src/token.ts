// Prints a development JWT the gateway accepts: npm run token -- --sub alice --role admin
import { Command, InvalidArgumentError } from 'commander';
import { SignJWT } from 'jose';
import { loadStackEnv } from './lib/stack-env';

const roles = ['user', 'editor', 'admin', 'service'];

export async function signDevToken(options: {
  sub: string;
  role: string;
  ttlSeconds: number;
  secret: string;
  issuer?: string;
  audience?: string;
}): Promise<string> {
  let jwt = new SignJWT({ role: options.role })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(options.sub)
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + options.ttlSeconds);
  if (options.issuer) jwt = jwt.setIssuer(options.issuer);
  if (options.audience) jwt = jwt.setAudience(options.audience);
  return jwt.sign(new TextEncoder().encode(options.secret));
}

async function main(): Promise<void> {
  loadStackEnv();
  const program = new Command('token')
    .description(
      'Print a development JWT (HS256, JWT_SECRET from the environment or .stack/stack.env)',
    )
    .requiredOption('--sub <id>', 'user id (sub claim)')
    .option(
      '--role <role>',
      'user | editor | admin',
      (value) => {
        if (!roles.includes(value))
          throw new InvalidArgumentError(`must be one of ${roles.join(', ')}`);
        return value;
      },
      'user',
    )
    .option(
      '--ttl <seconds>',
      'lifetime in seconds',
      (v) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n <= 0)
          throw new InvalidArgumentError('must be a positive integer');
        return n;
      },
      24 * 3600,
    )
    .parse();
  const opts = program.opts<{ sub: string; role: string; ttl: number }>();
  const secret = process.env.JWT_SECRET;
  if (!secret) {
    process.stderr.write(
      'token: JWT_SECRET is not set (run `npm run stack:up` first or export it)\n',
    );
    process.exit(1);
  }
  process.stderr.write(`token for sub=${opts.sub} role=${opts.role}, valid ${opts.ttl}s:\n`);
  process.stdout.write(
    (await signDevToken({
      sub: opts.sub,
      role: opts.role,
      ttlSeconds: opts.ttl,
      secret,
      issuer: process.env.JWT_ISSUER,
      audience: process.env.JWT_AUDIENCE,
    })) + '\n',
  );
}

if (require.main === module) void main();
