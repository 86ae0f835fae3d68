import { Inject, Injectable, type OnModuleDestroy } from '@nestjs/common';
import { getLogger } from '@bible/common';
import { NOTIFIER_CONFIG, type NotifierConfig } from '../../config';
import { ApnsProvider } from './apns';
import { FcmProvider } from './fcm';
import type { ProviderName, PushProvider } from './provider';
import { WebPushProvider } from './webpush';

/** The providers whose credentials are configured (built once at boot; bad keys fail boot). */
@Injectable()
export class PushProviders implements OnModuleDestroy {
  private readonly providers = new Map<ProviderName, PushProvider>();

  constructor(@Inject(NOTIFIER_CONFIG) c: NotifierConfig) {
    if (c.FCM_SERVICE_ACCOUNT_FILE)
      this.add(
        new FcmProvider({
          serviceAccountFile: c.FCM_SERVICE_ACCOUNT_FILE,
          projectId: c.FCM_PROJECT_ID,
          endpoint: c.FCM_ENDPOINT,
          tokenUri: c.FCM_TOKEN_URI,
          timeoutMs: c.PUSH_TIMEOUT_MS,
          connections: c.PUSH_CONCURRENCY,
        }),
      );
    if (c.APNS_KEY_FILE && c.APNS_KEY_ID && c.APNS_TEAM_ID && c.APNS_TOPIC)
      this.add(
        new ApnsProvider({
          keyFile: c.APNS_KEY_FILE,
          keyId: c.APNS_KEY_ID,
          teamId: c.APNS_TEAM_ID,
          topic: c.APNS_TOPIC,
          host: c.APNS_HOST,
          caFile: c.APNS_CA_FILE,
          timeoutMs: c.PUSH_TIMEOUT_MS,
        }),
      );
    if (c.VAPID_PUBLIC_KEY && c.VAPID_PRIVATE_KEY && c.VAPID_SUBJECT)
      this.add(
        new WebPushProvider({
          publicKey: c.VAPID_PUBLIC_KEY,
          privateKey: c.VAPID_PRIVATE_KEY,
          subject: c.VAPID_SUBJECT,
          allowed: c.WEBHOOK_ALLOWED_CIDRS,
          caFile: c.WEBPUSH_CA_FILE,
          timeoutMs: c.PUSH_TIMEOUT_MS,
        }),
      );
    getLogger().info({ providers: [...this.providers.keys()] }, 'device push providers');
  }

  private add(provider: PushProvider): void {
    this.providers.set(provider.name, provider);
  }

  has(name: ProviderName): boolean {
    return this.providers.has(name);
  }

  get(name: ProviderName): PushProvider | undefined {
    return this.providers.get(name);
  }

  names(): ProviderName[] {
    return [...this.providers.keys()];
  }

  async onModuleDestroy(): Promise<void> {
    await Promise.all([...this.providers.values()].map((p) => p.close().catch(() => undefined)));
  }
}
