import { type Server, createServer } from 'node:http';
import { once } from 'node:events';
import {
  Inject,
  Injectable,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { QueueName, REDIS, getLogger, queuePrefix } from '@bible/common';
import { GATEWAY_CONFIG, type GatewayConfig } from '../config';
import { basicAuthMatches } from './basic-auth';

/**
 * Bull Board over every BullMQ queue of the platform, on its own listener (QUEUE_CONSOLE_PORT)
 * behind basic auth; read-only unless QUEUE_CONSOLE_READ_ONLY=false. The queues here only read
 * and, when allowed, act on jobs: they never process any.
 */
@Injectable()
export class QueueConsoleService implements OnApplicationBootstrap, OnModuleDestroy {
  private server?: Server;
  private readonly queues: Queue[] = [];

  constructor(
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
    @Inject(REDIS) private readonly redis: Redis,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    const { QUEUE_CONSOLE_PORT: port, QUEUE_CONSOLE_HOST: host } = this.config;
    const password = this.config.QUEUE_CONSOLE_PASSWORD;
    if (port === undefined || !password) return;
    const readOnlyMode = this.config.QUEUE_CONSOLE_READ_ONLY;
    for (const name of Object.values(QueueName))
      this.queues.push(new Queue(name, { prefix: queuePrefix(), connection: this.redis }));
    const board = new ExpressAdapter();
    board.setBasePath('');
    createBullBoard({
      queues: this.queues.map((q) => new BullMQAdapter(q, { readOnlyMode })),
      serverAdapter: board,
      options: { uiConfig: { boardTitle: 'Bible packages queues' } },
    });
    const app = board.getRouter() as (req: unknown, res: unknown) => void;
    const user = this.config.QUEUE_CONSOLE_USER;
    this.server = createServer((req, res) => {
      if (!basicAuthMatches(req.headers.authorization, user, password)) {
        res.writeHead(401, {
          'www-authenticate': 'Basic realm="queue console", charset="UTF-8"',
          'content-type': 'text/plain',
        });
        res.end('authentication required\n');
        return;
      }
      app(req, res);
    });
    this.server.listen(port, host);
    await once(this.server, 'listening');
    getLogger().info(
      { port, host, readOnly: readOnlyMode, queues: this.queues.length },
      'queue console listening',
    );
  }

  async onModuleDestroy(): Promise<void> {
    const server = this.server;
    if (server) {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
    await Promise.all(this.queues.map((q) => q.close()));
  }
}
