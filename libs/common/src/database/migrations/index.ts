import { ContentSchema1795300000000 } from './1795300000000-ContentSchema';
import { ChangeLog1795300100000 } from './1795300100000-ChangeLog';
import { OperationsSchema1795300200000 } from './1795300200000-OperationsSchema';
import { SigningKeys1795300300000 } from './1795300300000-SigningKeys';
import { SyncFeed1795300600000 } from './1795300600000-SyncFeed';
import { VerseTextSearch1795301000000 } from './1795301000000-VerseTextSearch';
import { Events1795301100000 } from './1795301100000-Events';
import { WebhookDeliveries1795301200000 } from './1795301200000-WebhookDeliveries';
import { PushNotifications1795301300000 } from './1795301300000-PushNotifications';
import { DeltaPackages1795301400000 } from './1795301400000-DeltaPackages';
import { NotificationSendClaims1795301500000 } from './1795301500000-NotificationSendClaims';
import { NotificationsFillfactor1795301600000 } from './1795301600000-NotificationsFillfactor';

/** All migrations, oldest first. Append new ones; never edit an applied one. */
export const migrations = [
  ContentSchema1795300000000,
  ChangeLog1795300100000,
  OperationsSchema1795300200000,
  SigningKeys1795300300000,
  SyncFeed1795300600000,
  VerseTextSearch1795301000000,
  Events1795301100000,
  WebhookDeliveries1795301200000,
  PushNotifications1795301300000,
  DeltaPackages1795301400000,
  NotificationSendClaims1795301500000,
  NotificationsFillfactor1795301600000,
];
