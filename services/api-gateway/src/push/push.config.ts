import { z } from 'zod';

/** Gateway side of device push: the VAPID public key web clients subscribe with. */
export const gatewayPushEnv = {
  VAPID_PUBLIC_KEY: z
    .string()
    .regex(
      /^[A-Za-z0-9_-]{86,88}$/,
      'must be a base64url P-256 public key (web-push generate-vapid-keys)',
    )
    .optional(),
};
